{#- The scoring configuration as one row: every parameter and factor weight as a column, the band table,
    and a hash of all the reference data the scores depend on (stamped on every scored row). -#}
with

parameters as (
    select * from {{ ref('ref_scoring_parameters') }}
),

factors as (
    select * from {{ ref('ref_risk_factors') }}
),

bands as (
    select * from {{ ref('ref_risk_bands') }}
),

signal_sources as (
    select * from {{ ref('ref_signal_sources') }}
),

signal_types as (
    select * from {{ ref('ref_signal_types') }}
),

stages as (
    select * from {{ ref('ref_stage_slas') }}
),

risk_tiers as (
    select * from {{ ref('ref_risk_tiers') }}
),

config_text as (
    select string_agg('p:' || parameter || '=' || cast(value as varchar), ';' order by parameter) as part
    from parameters
    union all
    select string_agg('f:' || risk_factor || '=' || cast(weight as varchar), ';' order by risk_factor)
    from factors
    union all
    select string_agg(
        'b:' || risk_band || '=' || cast(min_score as varchar) || '..' || cast(max_score as varchar),
        ';' order by risk_band
    )
    from bands
    union all
    select string_agg('s:' || source || '=' || cast(source_weight as varchar), ';' order by source)
    from signal_sources
    union all
    select string_agg(
        't:' || signal_type || '=' || polarity || '/' || coalesce(resolves_signal_types, ''),
        ';' order by signal_type
    )
    from signal_types
    union all
    select string_agg(
        'g:' || journey_stage || '=' || cast(sla_days as varchar) || '/' || cast(stage_risk as varchar),
        ';' order by journey_stage
    )
    from stages
    union all
    select string_agg('r:' || risk_tier || '=' || cast(prior_risk_value as varchar), ';' order by risk_tier)
    from risk_tiers
),

pivoted as (
    select
        {%- for parameter in ['recency_half_life_days', 'signal_window_days', 'strong_signal_threshold',
            'friction_start_ratio', 'friction_full_ratio', 'early_tenure_months', 'high_value_account_value',
            'review_risk_score'] %}
        cast(max(case when parameter = '{{ parameter }}' then value end) as double) as {{ parameter }},
        {%- endfor %}
        1 as join_key
    from parameters
),

weights as (
    select
        {%- for factor in risk_factor_names() %}
        cast(coalesce(max(case when risk_factor = '{{ factor }}' then weight end), 0) as double)
            as weight_{{ factor }},
        {%- endfor %}
        1 as join_key
    from factors
),

final as (
    select
        pivoted.* exclude (join_key),
        weights.* exclude (join_key),
        (select md5(string_agg(part, '|' order by part)) from config_text) as scoring_config_hash
    from pivoted
    inner join weights
        on pivoted.join_key = weights.join_key
)

select * from final
