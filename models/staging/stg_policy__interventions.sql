{#- Interventions the policy step wrote to policy.interventions. Before the policy has ever run the table does
    not exist and this view is empty (source_or_empty falls back to an empty relation with the declared types). -#}
with

policy_interventions as (
    select * from {{ source_or_empty('policy', 'interventions') }}
),

final as (
    select
        cast(intervention_id as {{ string_type() }}) as intervention_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(journey_stage as {{ string_type() }}) as journey_stage,
        cast(recommended_action as {{ string_type() }}) as recommended_action,
        cast(confidence as double) as confidence,
        cast(requires_human_approval as boolean) as requires_human_approval,
        triggered_by_signals,
        cast(evaluation_latency_ms as integer) as evaluation_latency_ms,
        cast(generated_at as date) as generated_at,
        cast(policy_version as {{ string_type() }}) as policy_version,
        cast(reason as {{ string_type() }}) as reason,
        cast(decision_id as {{ string_type() }}) as decision_id,
        cast(approval_status as {{ string_type() }}) as approval_status,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(decided_at as timestamp) as decided_at
    from policy_interventions
)

select * from final
