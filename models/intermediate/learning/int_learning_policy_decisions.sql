{#- The policy's decisions that made an intervention, one row per intervention (the latest decision_log row of its
    decision_id: a rerun with changed inputs appends a newer row): the risk band the customer had when the policy
    decided (inputs.risk_band) and why it needed approval (approval_reasons, a list). Empty before the policy has
    ever run. -#}
with

decision_log as (
    select * from {{ ref('stg_policy__decision_log') }}
    where intervention_id is not null
),

ranked as (
    select
        decision_log.decision_id,
        decision_log.intervention_id,
        decision_log.inputs.risk_band,
        decision_log.approval_reasons,
        row_number() over (
            partition by decision_log.intervention_id
            order by decision_log.decided_at desc, decision_log.decision_log_id desc
        ) as row_rank
    from decision_log
),

final as (
    select
        cast(intervention_id as {{ string_type() }}) as intervention_id,
        cast(decision_id as {{ string_type() }}) as decision_id,
        cast(risk_band as {{ string_type() }}) as risk_band,
        approval_reasons
    from ranked
    where row_rank = 1
)

select * from final
