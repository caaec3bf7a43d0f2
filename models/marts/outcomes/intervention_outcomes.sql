{#- One row per intervention, historical (interventions feed) and policy-made (policy.interventions), known on
    as_of_date: what was recommended, its outcome and outcome class, whether it is still pending, and its cost. -#}
with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

final as (
    select
        cast(intervention_id as {{ string_type() }}) as intervention_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(segment as {{ string_type() }}) as segment,
        cast(journey_stage as {{ string_type() }}) as journey_stage,
        cast(recommended_action as {{ string_type() }}) as recommended_action,
        cast(is_high_touch as boolean) as is_high_touch,
        cast(confidence as double) as confidence,
        cast(requires_human_approval as boolean) as requires_human_approval,
        cast(triggered_signal_count as integer) as triggered_signal_count,
        cast(evaluation_latency_ms as integer) as evaluation_latency_ms,
        cast(generated_at as date) as generated_at,
        cast(origin as {{ string_type() }}) as origin,
        cast(policy_version as {{ string_type() }}) as policy_version,
        cast(decision_id as {{ string_type() }}) as decision_id,
        cast(approval_status as {{ string_type() }}) as approval_status,
        cast(outcome_id as {{ string_type() }}) as outcome_id,
        cast(outcome as {{ string_type() }}) as outcome,
        cast(outcome_class as {{ string_type() }}) as outcome_class,
        cast(is_success as boolean) as is_success,
        cast(is_pending as boolean) as is_pending,
        cast(outcome_count as integer) as outcome_count,
        cast(measured_at as date) as measured_at,
        cast(days_to_outcome as integer) as days_to_outcome,
        cast(resolution_time_days as double) as resolution_time_days,
        cast(csat_delta as double) as csat_delta,
        cast(churn_risk_delta as double) as churn_risk_delta,
        cast(estimated_revenue_saved as decimal(18, 2)) as estimated_revenue_saved,
        cast(human_override as boolean) as human_override,
        cast(age_days as integer) as age_days,
        cast(is_overdue as boolean) as is_overdue,
        cast(action_cost as decimal(18, 2)) as action_cost,
        cast(human_review_cost as decimal(18, 2)) as human_review_cost,
        cast(intervention_cost as decimal(18, 2)) as intervention_cost,
        cast(kpi_config_hash as {{ string_type() }}) as kpi_config_hash,
        cast(as_of_date as date) as as_of_date
    from intervention_outcomes
)

select * from final
