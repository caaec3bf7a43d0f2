{#- The holdout share of each policy config the policy has decided with: holdout.share of the validated config
    stored in policy.configs (stg_policy__configs), the one declaration being policy/policy.yml. The split
    check (marts.holdout_sample_ratio) compares each decision's holdout with the share of the config that made
    it (decision_log.config_hash). Empty before the policy has ever run. -#}
with

configs as (
    select * from {{ ref('stg_policy__configs') }}
),

final as (
    select
        cast(config_hash as {{ string_type() }}) as config_hash,
        cast(policy_version as {{ string_type() }}) as policy_version,
        cast({{ json_text_at('config', '$.holdout.share') }} as double) as holdout_share
    from configs
)

select * from final
