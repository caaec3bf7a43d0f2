{#- policy.decision_log reduced to the decision each customer got: the latest row per decision_id (a rerun with
    changed inputs appends a newer row for the same decision). Empty before the policy has ever run
    (source_or_empty). Rows without a customer_id are dropped. -#}
with

decision_log as (
    select * from {{ source_or_empty('policy', 'decision_log') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

ranked as (
    select
        decision_log.*,
        row_number() over (
            partition by decision_log.decision_id
            order by decision_log.decided_at desc, decision_log.decision_log_id desc
        ) as row_rank
    from decision_log
    cross join as_of
    where
        decision_log.customer_id is not null
        and decision_log.as_of_date <= as_of.as_of_date
),

final as (
    select
        cast(decision_id as {{ string_type() }}) as decision_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(as_of_date as date) as decision_date,
        cast(decision as {{ string_type() }}) as decision,
        cast(would_be_decision as {{ string_type() }}) as would_be_decision,
        cast(recommended_action as {{ string_type() }}) as recommended_action,
        cast(intervention_id as {{ string_type() }}) as intervention_id,
        cast(policy_version as {{ string_type() }}) as policy_version,
        cast(coalesce(is_holdout, false) as boolean) as is_holdout,
        cast(dq_gate as {{ string_type() }}) as dq_gate,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(decided_at as timestamp) as decided_at
    from ranked
    where row_rank = 1
)

select * from final
