{#- Interventions the policy step wrote to policy.interventions, without the review columns. Before the policy has
    ever run the table does not exist and this view is empty (source_or_empty falls back to an empty relation with
    the types declared in _policy__sources.yml, which are also the types the policy creates the table with). -#}
with

policy_interventions as (
    select * from {{ source_or_empty('policy', 'interventions') }}
),

final as (
    select
        intervention_id,
        customer_id,
        journey_stage,
        recommended_action,
        confidence,
        requires_human_approval,
        triggered_by_signals,
        evaluation_latency_ms,
        generated_at,
        policy_version,
        reason,
        decision_id,
        approval_status,
        run_id,
        decided_at
    from policy_interventions
)

select * from final
