{#- One row per intervention known on as_of_date (generated on or before it), with its outcome (the latest one
    measured on or before as_of_date when there are several), the outcome's class from ref_outcome_types, the
    intervention's cost from ref_actions and the KPI parameters, and its age. An intervention without an outcome
    is pending. -#}
with

interventions as (
    select * from {{ ref('int_interventions__combined') }}
),

outcomes as (
    select * from {{ ref('int_outcomes__checked') }}
    where not is_orphan
),

customers as (
    select * from {{ ref('stg_customers') }}
),

outcome_types as (
    select * from {{ ref('ref_outcome_types') }}
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

known_interventions as (
    select interventions.*
    from interventions
    cross join as_of
    where interventions.generated_at <= as_of.as_of_date
),

known_outcomes as (
    select
        outcomes.*,
        row_number() over (
            partition by outcomes.intervention_id
            order by outcomes.measured_at desc, outcomes.outcome_id desc
        ) as outcome_rank,
        count(*) over (partition by outcomes.intervention_id) as outcome_count
    from outcomes
    cross join as_of
    where outcomes.measured_at <= as_of.as_of_date
),

latest_outcomes as (
    select * from known_outcomes
    where outcome_rank = 1
),

joined as (
    select
        known_interventions.intervention_id,
        known_interventions.customer_id,
        customers.segment,
        known_interventions.journey_stage,
        known_interventions.recommended_action,
        actions.is_high_touch,
        known_interventions.confidence,
        known_interventions.requires_human_approval,
        {{ list_size('known_interventions.triggered_by_signals') }} as triggered_signal_count,
        known_interventions.evaluation_latency_ms,
        known_interventions.generated_at,
        known_interventions.origin,
        known_interventions.policy_version,
        known_interventions.decision_id,
        known_interventions.approval_status,
        latest_outcomes.outcome_id,
        latest_outcomes.outcome,
        outcome_types.outcome_class,
        outcome_types.is_success,
        latest_outcomes.outcome_id is null as is_pending,
        coalesce(latest_outcomes.outcome_count, 0) as outcome_count,
        latest_outcomes.measured_at,
        latest_outcomes.resolution_time_days,
        latest_outcomes.csat_delta,
        latest_outcomes.churn_risk_delta,
        latest_outcomes.estimated_revenue_saved,
        latest_outcomes.human_override,
        {{ dbt.datediff('known_interventions.generated_at', 'latest_outcomes.measured_at', 'day') }}
            as days_to_outcome,
        {{ dbt.datediff('known_interventions.generated_at', 'as_of.as_of_date', 'day') }}
            as age_days,
        kpi_parameters.outcome_overdue_days,
        actions.unit_cost as action_cost,
        case
            when known_interventions.requires_human_approval then kpi_parameters.human_review_cost
            else 0
        end as human_review_cost,
        kpi_parameters.kpi_config_hash,
        as_of.as_of_date
    from known_interventions
    cross join as_of
    cross join kpi_parameters
    left join latest_outcomes
        on known_interventions.intervention_id = latest_outcomes.intervention_id
    left join customers
        on known_interventions.customer_id = customers.customer_id
    left join outcome_types
        on latest_outcomes.outcome = outcome_types.outcome
    left join actions
        on known_interventions.recommended_action = actions.recommended_action
),

final as (
    select
        *,
        is_pending and age_days > outcome_overdue_days as is_overdue,
        action_cost + human_review_cost as intervention_cost
    from joined
)

select * from final
