{#- How at risk each known customer is at as_of_date, with every factor's contribution as a column
    (they add up to risk_score), the factor that contributes most, the band, and the config hash. -#}
with

risk_factors as (
    select * from {{ ref('int_risk_factors') }}
),

bands as (
    select * from {{ ref('ref_risk_bands') }}
),

contributions as (
    select
        *,
        greatest(
            {%- for factor in risk_factor_names() %}
            {{ factor }}_contribution{{ "," if not loop.last }}
            {%- endfor %}
        ) as largest_contribution
    from risk_factors
),

scored as (
    select
        *,
        {#- rounded to 10 decimals so that a score meant to be exactly at a band edge or threshold (0.7)
            is not pushed over it by floating-point error in the sum -#}
        round(
            {% for factor in risk_factor_names() -%}
            {{ factor }}_contribution{{ " + " if not loop.last }}
            {%- endfor %},
            10
        ) as risk_score,
        {#- the factor with the largest contribution; ties go to the earlier factor in risk_factor_names() -#}
        case
            {%- for factor in risk_factor_names() %}
            when {{ factor }}_contribution >= largest_contribution then '{{ factor }}'
            {%- endfor %}
        end as top_risk_factor
    from contributions
),

final as (
    select
        cast(scored.customer_id as {{ string_type() }}) as customer_id,
        cast(scored.risk_score as double) as risk_score,
        cast(bands.risk_band as {{ string_type() }}) as risk_band,
        {%- for factor in risk_factor_names() %}
        cast(scored.{{ factor }} as double) as {{ factor }}_factor,
        cast(scored.{{ factor }}_contribution as double) as {{ factor }}_contribution,
        {%- endfor %}
        cast(case when scored.risk_score > 0 then scored.top_risk_factor end as {{ string_type() }}) as top_risk_factor,
        cast(scored.account_value > scored.high_value_account_value as boolean) as is_high_value,
        cast(
            scored.account_value > scored.high_value_account_value and scored.risk_score > scored.review_risk_score
            as boolean
        ) as needs_human_review,
        cast(scored.scoring_config_hash as {{ string_type() }}) as scoring_config_hash,
        cast(scored.as_of_date as date) as as_of_date
    from scored
    left join bands
        on scored.risk_score >= bands.min_score
        and scored.risk_score < bands.max_score
)

select * from final
