{#- The policy settings the learning marts weigh candidates against, as one row: confidence.floor and
    thresholds.act_min_band (top-level act_min_band in the validated config) of the policy config most recently
    decided with (stg_policy__configs, the validated config as JSON, the latest by decided_at; the one declaration
    is policy/policy.yml). Before the policy has ever run there is no config: the row is still there, with nulls
    (has_policy_config false). -#}
{#- a view: threshold_recommendations is its one reader -#}
{{ config(materialized='view') }}

with

configs as (
    select * from {{ ref('stg_policy__configs') }}
),

ranked as (
    select
        configs.config_hash,
        configs.policy_version,
        configs.decided_at,
        cast({{ json_text_at('configs.config', '$.confidence.floor') }} as double) as confidence_floor,
        {{ json_text_at('configs.config', '$.act_min_band') }} as act_min_band,
        row_number() over (order by configs.decided_at desc, configs.config_hash desc) as row_rank
    from configs
),

latest as (
    select * from ranked
    where row_rank = 1
),

one_row as (
    select 1 as anchor
),

final as (
    select
        cast(latest.config_hash as {{ string_type() }}) as config_hash,
        cast(latest.policy_version as {{ string_type() }}) as policy_version,
        cast(latest.decided_at as timestamp) as decided_at,
        cast(latest.confidence_floor as double) as confidence_floor,
        cast(latest.act_min_band as {{ string_type() }}) as act_min_band,
        cast(latest.config_hash is not null as boolean) as has_policy_config
    from one_row
    left join latest
        on one_row.anchor = 1
)

select * from final
