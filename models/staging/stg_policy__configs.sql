{#- policy.configs, each distinct policy config once (keyed by config_hash, which policy.decision_log references):
    the one model that reads the source. Empty, with the declared types, before the policy has ever run. -#}
with

configs as (
    select * from {{ source_or_empty('policy', 'configs') }}
),

final as (
    select * from configs
)

select * from final
