{#- One row per action of ref_actions (also actions never used): the KPIs over the interventions that recommended
    it, with the action's unit cost. Treated customers are those who got the action; baseline customers are the
    known customers without any intervention (the same comparison group on every row: do not sum it). -#}
with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

customer_treatment as (
    select * from {{ ref('int_customer_treatment') }}
),

actions as (
    select * from {{ ref('ref_actions') }}
),

kpi_parameters as (
    select * from {{ ref('int_kpi_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

intervention_kpis as (
    select
        actions.recommended_action,
        {{ kpi_intervention_aggregates() }}
    from actions
    left join intervention_outcomes
        on actions.recommended_action = intervention_outcomes.recommended_action
    group by actions.recommended_action
),

customer_counts as (
    select
        count(*) as customers_total,
        count(case when not is_treated then customer_id end) as baseline_customers
    from customer_treatment
),

final as (
    select
        cast(actions.recommended_action as {{ string_type() }}) as recommended_action,
        cast(actions.is_high_touch as boolean) as is_high_touch,
        cast(actions.unit_cost as decimal(18, 2)) as unit_cost,
        cast(as_of.as_of_date as date) as as_of_date,
        {{ kpi_intervention_columns('intervention_kpis') }}
        cast(customer_counts.customers_total as bigint) as customers_total,
        cast(intervention_kpis.treated_customers as bigint) as treated_customers,
        cast(customer_counts.baseline_customers as bigint) as baseline_customers,
        {{ kpi_ratio('intervention_kpis.treated_customers', 'customer_counts.customers_total') }} as treated_share,
        cast(kpi_parameters.kpi_config_hash as {{ string_type() }}) as kpi_config_hash
    from actions
    inner join intervention_kpis
        on actions.recommended_action = intervention_kpis.recommended_action
    cross join customer_counts
    cross join as_of
    cross join kpi_parameters
)

select * from final
