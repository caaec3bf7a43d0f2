{#- One row per as_of_date: every KPI of DESIGN.md over all interventions known on that date, treated vs
    baseline customers, and data completeness per feed. Incremental: a run for a new as_of_date adds its row and
    keeps the earlier ones (a daily KPI history); a rerun of the same date replaces its row. -#}
{{ config(**daily_history_config()) }}

with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

customer_treatment as (
    select * from {{ ref('int_customer_treatment') }}
),

feed_accounting as (
    select * from {{ ref('feed_accounting') }}
),

kpi_parameters as (
    select * from {{ ref('int_kpi_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

intervention_kpis as (
    select
        {{ kpi_intervention_aggregates() }}
    from intervention_outcomes
),

customer_counts as (
    select
        count(*) as customers_total,
        count(case when is_treated then customer_id end) as treated_customers,
        count(case when not is_treated then customer_id end) as baseline_customers
    from customer_treatment
),

completeness as (
    select
        {%- for feed in journey_feeds() %}
        sum(case when source = '{{ feed }}' then staged_records end) as {{ feed }}_staged_records,
        sum(case when source = '{{ feed }}' then input_records end) as {{ feed }}_input_records,
        {%- endfor %}
        sum(staged_records) as staged_records,
        sum(input_records) as input_records
    from feed_accounting
),

final as (
    select
        cast(as_of.as_of_date as date) as as_of_date,
        {{ kpi_intervention_columns('intervention_kpis') }}
        cast(customer_counts.customers_total as bigint) as customers_total,
        cast(customer_counts.treated_customers as bigint) as treated_customers,
        cast(customer_counts.baseline_customers as bigint) as baseline_customers,
        {{ kpi_ratio('customer_counts.treated_customers', 'customer_counts.customers_total') }} as treated_share,
        {%- for feed in journey_feeds() %}
        cast(completeness.{{ feed }}_staged_records as bigint) as {{ feed }}_staged_records,
        cast(completeness.{{ feed }}_input_records as bigint) as {{ feed }}_input_records,
        cast(
            case
                when completeness.{{ feed }}_input_records = 0 then 1.0
                else {{ kpi_ratio(
                    'completeness.' ~ feed ~ '_staged_records',
                    'completeness.' ~ feed ~ '_input_records'
                ) }}
            end as double
        ) as {{ feed }}_completeness,
        {%- endfor %}
        cast(completeness.staged_records as bigint) as staged_records,
        cast(completeness.input_records as bigint) as input_records,
        cast(
            case
                when completeness.input_records = 0 then 1.0
                else {{ kpi_ratio('completeness.staged_records', 'completeness.input_records') }}
            end as double
        ) as data_completeness,
        cast(kpi_parameters.kpi_config_hash as {{ string_type() }}) as kpi_config_hash
    from as_of
    cross join intervention_kpis
    cross join customer_counts
    cross join completeness
    cross join kpi_parameters
)

select * from final
