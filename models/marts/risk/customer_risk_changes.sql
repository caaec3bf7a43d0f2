{#- For each customer: how the score moved since the previous as_of_date in customer_risk_history, and which
    factor moved it most. "Why did this score change?" answered in SQL. -#}
with

risk_scores as (
    select * from {{ ref('customer_risk_scores') }}
),

history as (
    select * from {{ ref('customer_risk_history') }}
),

previous_run as (
    select
        history.*,
        row_number() over (partition by history.customer_id order by history.as_of_date desc) as recency_rank
    from history
    inner join risk_scores
        on history.customer_id = risk_scores.customer_id
        and history.as_of_date < risk_scores.as_of_date
),

previous as (
    select * from previous_run
    where recency_rank = 1
),

deltas as (
    select
        risk_scores.customer_id,
        previous.as_of_date as previous_as_of_date,
        risk_scores.as_of_date as current_as_of_date,
        previous.risk_score as previous_risk_score,
        risk_scores.risk_score as current_risk_score,
        previous.risk_band as previous_risk_band,
        risk_scores.risk_band as current_risk_band,
        risk_scores.risk_score - previous.risk_score as risk_score_delta,
        {%- for factor in risk_factor_names() %}
        risk_scores.{{ factor }}_contribution - previous.{{ factor }}_contribution as {{ factor }}_delta,
        {%- endfor %}
        -- in brackets: sqlfluff's parser takes the `from` of a bare `is distinct from` in a select list for the
        -- FROM clause
        (previous.scoring_config_hash is distinct from risk_scores.scoring_config_hash) as is_config_changed
    from risk_scores
    left join previous
        on risk_scores.customer_id = previous.customer_id
),

largest_deltas as (
    select
        *,
        greatest(
            {%- for factor in risk_factor_names() %}
            abs({{ factor }}_delta){{ "," if not loop.last }}
            {%- endfor %}
        ) as largest_abs_delta
    from deltas
),

explained as (
    select
        *,
        case
            when previous_as_of_date is null then null
            {%- for factor in risk_factor_names() %}
            when abs({{ factor }}_delta) >= largest_abs_delta then '{{ factor }}'
            {%- endfor %}
        end as top_moving_factor
    from largest_deltas
),

final as (
    select
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(previous_as_of_date as date) as previous_as_of_date,
        cast(current_as_of_date as date) as current_as_of_date,
        cast(previous_risk_score as double) as previous_risk_score,
        cast(current_risk_score as double) as current_risk_score,
        cast(risk_score_delta as double) as risk_score_delta,
        cast(previous_risk_band as {{ string_type() }}) as previous_risk_band,
        cast(current_risk_band as {{ string_type() }}) as current_risk_band,
        {%- for factor in risk_factor_names() %}
        cast({{ factor }}_delta as double) as {{ factor }}_delta,
        {%- endfor %}
        cast(
            case when abs(risk_score_delta) > 0 then top_moving_factor end as {{ string_type() }}
        ) as top_moving_factor,
        cast(
            case
                {%- for factor in risk_factor_names() %}
                when top_moving_factor = '{{ factor }}' then {{ factor }}_delta
                {%- endfor %}
            end as double
        ) as top_moving_factor_delta,
        cast(is_config_changed as boolean) as is_config_changed,
        cast(
            case
                when previous_as_of_date is null
                    then 'first scored on ' || cast(current_as_of_date as {{ string_type() }})
                when abs(risk_score_delta) = 0
                    then 'unchanged since ' || cast(previous_as_of_date as {{ string_type() }})
                else
                    case when risk_score_delta > 0 then 'rose ' else 'fell ' end
                    || cast(round(abs(risk_score_delta), 3) as {{ string_type() }})
                    || ' (' || cast(round(previous_risk_score, 3) as {{ string_type() }}) || ' -> '
                    || cast(round(current_risk_score, 3) as {{ string_type() }}) || ') since '
                    || cast(previous_as_of_date as {{ string_type() }}) || ', mostly ' || top_moving_factor || ' ('
                    || case
                        {%- for factor in risk_factor_names() %}
                        when top_moving_factor = '{{ factor }}'
                            then
                                case when {{ factor }}_delta > 0 then '+' else '' end
                                || cast(round({{ factor }}_delta, 3) as {{ string_type() }})
                        {%- endfor %}
                    end || ')'
                    || case when is_config_changed then '; the scoring config changed' else '' end
            end as {{ string_type() }}
        ) as explanation
    from explained
)

select * from final
