{#- One row per journey stage (every stage of ref_stage_slas, plus a null stage when some interventions did not
    record one): the KPIs over the interventions generated in that stage. Treated customers are those with an
    intervention in the stage; baseline customers are the known customers without any intervention (the same
    comparison group on every row: do not sum it). -#}
with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

customer_treatment as (
    select * from {{ ref('int_customer_treatment') }}
),

stages as (
    select * from {{ ref('ref_stage_slas') }}
),

kpi_parameters as (
    select * from {{ ref('int_kpi_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

stage_list as (
    select
        journey_stage,
        stage_order
    from stages

    union all

    select distinct
        cast(null as {{ string_type() }}) as journey_stage,
        cast(null as integer) as stage_order
    from intervention_outcomes
    where journey_stage is null
),

intervention_kpis as (
    select
        stage_list.journey_stage,
        {{ kpi_intervention_aggregates() }}
    from stage_list
    left join intervention_outcomes
        on stage_list.journey_stage = intervention_outcomes.journey_stage
        or (stage_list.journey_stage is null and intervention_outcomes.journey_stage is null)
    group by stage_list.journey_stage
),

customer_counts as (
    select
        count(*) as customers_total,
        count(case when not is_treated then customer_id end) as baseline_customers
    from customer_treatment
),

final as (
    select
        cast(stage_list.journey_stage as {{ string_type() }}) as journey_stage,
        cast(stage_list.stage_order as integer) as stage_order,
        cast(as_of.as_of_date as date) as as_of_date,
        {{ kpi_intervention_columns('intervention_kpis') }}
        cast(customer_counts.customers_total as bigint) as customers_total,
        cast(intervention_kpis.treated_customers as bigint) as treated_customers,
        cast(customer_counts.baseline_customers as bigint) as baseline_customers,
        {{ kpi_ratio('intervention_kpis.treated_customers', 'customer_counts.customers_total') }} as treated_share,
        cast(kpi_parameters.kpi_config_hash as {{ string_type() }}) as kpi_config_hash
    from stage_list
    inner join intervention_kpis
        on stage_list.journey_stage = intervention_kpis.journey_stage
        or (stage_list.journey_stage is null and intervention_kpis.journey_stage is null)
    cross join customer_counts
    cross join as_of
    cross join kpi_parameters
)

select * from final
