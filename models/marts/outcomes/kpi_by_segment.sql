{#- One row per customer segment (every segment of ref_segments, also those without interventions): the KPIs
    over the interventions for the segment's customers, and the segment's treated vs baseline customers. -#}
with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

customer_treatment as (
    select * from {{ ref('int_customer_treatment') }}
),

segments as (
    select * from {{ ref('ref_segments') }}
),

kpi_parameters as (
    select * from {{ ref('int_kpi_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

intervention_kpis as (
    select
        segments.segment,
        {{ kpi_intervention_aggregates() }}
    from segments
    left join intervention_outcomes
        on segments.segment = intervention_outcomes.segment
    group by segments.segment
),

customer_counts as (
    select
        segment,
        count(*) as customers_total,
        count(case when is_treated then customer_id end) as treated_customers,
        count(case when not is_treated then customer_id end) as baseline_customers
    from customer_treatment
    group by segment
),

final as (
    select
        cast(segments.segment as {{ string_type() }}) as segment,
        cast(segments.segment_label as {{ string_type() }}) as segment_label,
        cast(as_of.as_of_date as date) as as_of_date,
        {{ kpi_intervention_columns('intervention_kpis') }}
        cast(coalesce(customer_counts.customers_total, 0) as bigint) as customers_total,
        cast(coalesce(customer_counts.treated_customers, 0) as bigint) as treated_customers,
        cast(coalesce(customer_counts.baseline_customers, 0) as bigint) as baseline_customers,
        {{ kpi_ratio('customer_counts.treated_customers', 'customer_counts.customers_total') }} as treated_share,
        cast(kpi_parameters.kpi_config_hash as {{ string_type() }}) as kpi_config_hash
    from segments
    inner join intervention_kpis
        on segments.segment = intervention_kpis.segment
    left join customer_counts
        on segments.segment = customer_counts.segment
    cross join as_of
    cross join kpi_parameters
)

select * from final
