{#- Each known customer's risk factors, every one bounded to [0, 1], and its weighted contribution.
    The weights (seeds/ref_risk_factors.csv) sum to 1, so the contributions sum to a score in [0, 1]. -#}
{#- A view: one model reads it (nothing else does), so writing its rows as a table cost a full write at 1M customers
    for one read. -#}
{{ config(materialized='view') }}

with

journey_states as (
    select * from {{ ref('journey_states') }}
),

customer_signals as (
    select * from {{ ref('customer_signals') }}
),

risk_tiers as (
    select * from {{ ref('ref_risk_tiers') }}
),

config as (
    select * from {{ ref('int_scoring_config') }}
),

factors as (
    select
        journey_states.customer_id,
        journey_states.as_of_date,
        journey_states.account_value,
        {{ clamp('customer_signals.negative_pressure') }} as signal_pressure,
        case
            when journey_states.stage_sla_days is null or journey_states.days_in_state is null then 0
            else {{ clamp(
                '(journey_states.days_in_state * 1.0 / journey_states.stage_sla_days - config.friction_start_ratio)'
                ~ ' / (config.friction_full_ratio - config.friction_start_ratio)'
            ) }}
        end as time_in_state_friction,
        case when journey_states.is_transition_valid = false then 1.0 else 0.0 end as invalid_transition,
        {{ clamp('1 - journey_states.tenure_months / config.early_tenure_months') }} as early_tenure,
        {{ clamp('coalesce(risk_tiers.prior_risk_value, 0)') }} as prior_risk_tier,
        {{ clamp('coalesce(journey_states.stage_risk, 0)') }} as stage_risk,
        {%- for factor in risk_factor_names() %}
        config.weight_{{ factor }},
        {%- endfor %}
        config.high_value_account_value,
        config.review_risk_score,
        config.scoring_config_hash
    from journey_states
    inner join customer_signals
        on journey_states.customer_id = customer_signals.customer_id
    cross join config
    left join risk_tiers
        on journey_states.risk_tier = risk_tiers.risk_tier
),

final as (
    select
        *,
        {%- for factor in risk_factor_names() %}
        weight_{{ factor }} * {{ factor }} as {{ factor }}_contribution
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from factors
)

select * from final
