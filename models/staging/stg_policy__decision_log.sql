{#- policy.decision_log, the audit trail the policy step appends to: the one model that reads the source, so the
    models downstream read a ref. Empty, with the declared types, before the policy has ever run. -#}
with

decision_log as (
    select * from {{ source_or_empty('policy', 'decision_log') }}
),

final as (
    select * from decision_log
)

select * from final
