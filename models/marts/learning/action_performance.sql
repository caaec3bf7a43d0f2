{#- How well does each action work, and does any do worse than nothing? One row per action of ref_actions (also
    those never used): its interventions known on as_of_date, the recorded outcomes, the success rate with its
    Wilson interval, cost, cost per success, revenue saved and net value, the mean change of churn risk recorded
    in the outcomes with its interval, and the effect on churn risk against the holdout (randomized) or the
    matched comparison (observational) where marts.treatment_effects has one. is_worse_than_nothing is true only
    when the evidence's interval lies wholly on the harmful side: the treatment effect where there is one, else
    the outcomes' churn_risk_delta (customers got riskier after the action). Formulas: docs/learning-outcomes.md. -#}
{%- set effect_metric = 'churn_risk_delta' %}
{%- set money_text = 'cast(cast(round({}) as bigint) as ' ~ string_type() ~ ')' %}
{%- set delta_text = 'cast(round({}, 3) as ' ~ string_type() ~ ')' %}

with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

actions as (
    select * from {{ ref('ref_actions') }}
),

treatment_effects as (
    select * from {{ ref('treatment_effects') }}
),

learning_parameters as (
    select * from {{ ref('int_learning_parameters') }}
),

impact_parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

by_action as (
    select
        recommended_action,
        count(*) as interventions,
        count(case when not is_pending then 1 end) as recorded_outcomes,
        count(case when is_success then 1 end) as successes,
        sum(case when not is_pending then intervention_cost end) as total_cost,
        sum(case when is_success then estimated_revenue_saved end) as revenue_saved,
        count(case when not is_pending then churn_risk_delta end) as churn_risk_deltas,
        avg(case when not is_pending then churn_risk_delta end) as mean_churn_risk_delta,
        stddev_samp(case when not is_pending then churn_risk_delta end) as sd_churn_risk_delta
    from intervention_outcomes
    group by recommended_action
),

-- the action's effect on churn risk where the impact mart estimated one: randomized (against the holdout) before
-- observational (against matched customers)
effects as (
    select
        grouping_value as recommended_action,
        method as effect_method,
        metric as effect_metric,
        better_direction,
        effect,
        ci_lower as effect_ci_lower,
        ci_upper as effect_ci_upper,
        row_number() over (
            partition by grouping_value
            order by case when method = 'randomized' then 0 else 1 end
        ) as method_rank
    from treatment_effects
    where
        grouping_name = 'action'
        and metric = '{{ effect_metric }}'
        and effect is not null
),

joined as (
    select
        actions.recommended_action,
        coalesce(by_action.interventions, 0) as interventions,
        coalesce(by_action.recorded_outcomes, 0) as recorded_outcomes,
        coalesce(by_action.successes, 0) as successes,
        cast(coalesce(by_action.total_cost, 0) as double) as total_cost,
        cast(coalesce(by_action.revenue_saved, 0) as double) as revenue_saved,
        coalesce(by_action.churn_risk_deltas, 0) as churn_risk_deltas,
        by_action.mean_churn_risk_delta,
        {{ learning_mean_half_width(
            'by_action.sd_churn_risk_delta', 'by_action.churn_risk_deltas', 'impact_parameters.z_confidence'
        ) }} as churn_risk_delta_half_width,
        effects.effect_method,
        effects.effect_metric,
        effects.better_direction,
        effects.effect,
        effects.effect_ci_lower,
        effects.effect_ci_upper,
        impact_parameters.z_confidence,
        impact_parameters.confidence_level,
        learning_parameters.min_outcomes_per_bin,
        learning_parameters.learning_config_hash
    from actions
    cross join impact_parameters
    cross join learning_parameters
    left join by_action
        on actions.recommended_action = by_action.recommended_action
    left join effects
        on
        actions.recommended_action = effects.recommended_action
        and effects.method_rank = 1
),

judged as (
    select
        *,
        {{ kpi_ratio('successes', 'recorded_outcomes') }} as success_rate,
        mean_churn_risk_delta - churn_risk_delta_half_width as churn_risk_delta_ci_lower,
        mean_churn_risk_delta + churn_risk_delta_half_width as churn_risk_delta_ci_upper,
        recorded_outcomes >= min_outcomes_per_bin or effect is not null as has_evidence,
        case
            when effect is not null
                then {{ learning_interval_is_harmful('effect_ci_lower', 'effect_ci_upper', 'better_direction') }}
            else
                coalesce(
                    churn_risk_deltas >= min_outcomes_per_bin
                    and mean_churn_risk_delta - churn_risk_delta_half_width > 0,
                    false
                )
        end as is_worse_than_nothing
    from joined
),

final as (
    select
        cast(judged.recommended_action as {{ string_type() }}) as recommended_action,
        cast(judged.interventions as bigint) as interventions,
        cast(judged.recorded_outcomes as bigint) as recorded_outcomes,
        cast(judged.successes as bigint) as successes,
        cast(judged.success_rate as double) as success_rate,
        cast({{ wilson_lower('judged.success_rate', 'judged.recorded_outcomes', 'judged.z_confidence') }} as double)
            as success_rate_ci_lower,
        cast({{ wilson_upper('judged.success_rate', 'judged.recorded_outcomes', 'judged.z_confidence') }} as double)
            as success_rate_ci_upper,
        cast(judged.total_cost as double) as total_cost,
        cast(case when judged.successes > 0 then judged.total_cost / judged.successes end as double)
            as cost_per_success,
        cast(judged.revenue_saved as double) as revenue_saved,
        cast(judged.revenue_saved - judged.total_cost as double) as net_value,
        cast(judged.churn_risk_deltas as bigint) as churn_risk_deltas,
        cast(judged.mean_churn_risk_delta as double) as mean_churn_risk_delta,
        cast(judged.churn_risk_delta_ci_lower as double) as churn_risk_delta_ci_lower,
        cast(judged.churn_risk_delta_ci_upper as double) as churn_risk_delta_ci_upper,
        cast(judged.effect_method as {{ string_type() }}) as effect_method,
        cast(judged.effect_metric as {{ string_type() }}) as effect_metric,
        cast(judged.effect as double) as effect,
        cast(judged.effect_ci_lower as double) as effect_ci_lower,
        cast(judged.effect_ci_upper as double) as effect_ci_upper,
        cast(judged.confidence_level as double) as confidence_level,
        cast(judged.is_worse_than_nothing as boolean) as is_worse_than_nothing,
        cast(case when judged.has_evidence then 'measured' else 'insufficient data' end as {{ string_type() }})
            as status,
        cast(
            case
                when judged.is_worse_than_nothing and judged.effect is not null
                    then
                        'worse than doing nothing: ' || judged.effect_metric || ' changed by '
                        || {{ delta_text.format('judged.effect') }} || ' against the '
                        || case when judged.effect_method = 'randomized' then 'holdout' else 'matched comparison' end
                        || ' ('
                        || judged.effect_method
                        || '; '
                        || {{ learning_percent_text('judged.confidence_level') }}
                        || ' interval ' || {{ delta_text.format('judged.effect_ci_lower') }} || ' to '
                        || {{ delta_text.format('judged.effect_ci_upper') }} || ')'
                when judged.is_worse_than_nothing
                    then
                        'worse than doing nothing: churn risk rose by '
                        || {{ delta_text.format('judged.mean_churn_risk_delta') }} || ' on average after the action ('
                        || {{ learning_percent_text('judged.confidence_level') }} || ' interval '
                        || {{ delta_text.format('judged.churn_risk_delta_ci_lower') }} || ' to '
                        || {{ delta_text.format('judged.churn_risk_delta_ci_upper') }} || ', '
                        || cast(judged.churn_risk_deltas as {{ string_type() }})
                        || ' outcomes; observational: no comparison group)'
                when judged.interventions = 0
                    then 'insufficient data: no interventions'
                when not judged.has_evidence
                    then
                        'insufficient data: ' || cast(judged.recorded_outcomes as {{ string_type() }})
                        || ' recorded outcomes, fewer than the '
                        || cast(judged.min_outcomes_per_bin as {{ string_type() }})
                        || ' needed, and no treatment effect'
                else
                    'not shown to do worse than nothing: '
                    || coalesce(
                        {{ learning_percent_text('judged.success_rate') }} || ' of '
                        || cast(judged.recorded_outcomes as {{ string_type() }}) || ' outcomes succeeded',
                        'no recorded outcomes'
                    )
                    || coalesce(
                        ', ' || {{ money_text.format('judged.total_cost / nullif(judged.successes, 0)') }}
                        || ' per success', ''
                    )
            end as {{ string_type() }}
        ) as conclusion,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(judged.learning_config_hash as {{ string_type() }}) as learning_config_hash
    from judged
    cross join as_of
)

select * from final
