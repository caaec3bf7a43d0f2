{#- Policy interventions awaiting a person's approval (approval_status = 'pending'), highest value at risk
    (account_value x risk_score) first. Builds before the policy has ever run: source_or_empty gives an empty,
    typed relation, so the queue is simply empty. `journey review list` reads policy.interventions directly and
    is fresher; this mart is as fresh as the last dbt build. -#}
with

policy_interventions as (
    select * from {{ ref('stg_policy__interventions') }}
),

risk_scores as (
    select * from {{ ref('customer_risk_scores') }}
),

journey_states as (
    select * from {{ ref('journey_states') }}
),

pending as (
    select *
    from policy_interventions
    where approval_status = 'pending'
),

joined as (
    select
        pending.intervention_id,
        pending.customer_id,
        journey_states.account_value,
        risk_scores.risk_score,
        risk_scores.risk_band,
        pending.journey_stage,
        pending.recommended_action,
        pending.confidence,
        pending.reason,
        pending.generated_at,
        pending.policy_version,
        pending.decision_id,
        cast(journey_states.account_value as double) * risk_scores.risk_score as value_at_risk
    from pending
    left join risk_scores
        on pending.customer_id = risk_scores.customer_id
    left join journey_states
        on pending.customer_id = journey_states.customer_id
),

ranked as (
    select
        *,
        row_number() over (
            order by value_at_risk desc nulls last, generated_at asc, intervention_id asc
        ) as review_rank
    from joined
),

final as (
    select
        cast(review_rank as integer) as review_rank,
        cast(intervention_id as {{ string_type() }}) as intervention_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(account_value as decimal(18, 2)) as account_value,
        cast(risk_score as double) as risk_score,
        cast(risk_band as {{ string_type() }}) as risk_band,
        cast(value_at_risk as double) as value_at_risk,
        cast(journey_stage as {{ string_type() }}) as journey_stage,
        cast(recommended_action as {{ string_type() }}) as recommended_action,
        cast(confidence as double) as confidence,
        cast(reason as {{ string_type() }}) as reason,
        cast(generated_at as date) as generated_at,
        cast(policy_version as {{ string_type() }}) as policy_version,
        cast(decision_id as {{ string_type() }}) as decision_id
    from ranked
)

select * from final
order by review_rank
