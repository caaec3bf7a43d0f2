{#- What would another setting of the policy's confidence floor, or of the risk band it acts from, have been
    worth on the outcomes recorded so far? One row per parameter ('confidence_floor', 'act_min_band') x candidate
    setting: the recorded outcomes an intervention would still have had under it (a floor keeps confidence >=
    floor, a band keeps the interventions whose risk band at decision time ranks at or above it), their net value
    (sum of is_success x estimated_revenue_saved - intervention_cost; a dropped intervention counts 0) with a
    normal-approximation interval, the setting in force (policy.configs), the best candidate and a plain-words
    conclusion. Observational, and a view of evidence only: nothing reads it back into the policy. Formulas:
    docs/learning-outcomes.md. -#}
{%- set money_text = 'cast(cast(round({}) as bigint) as ' ~ string_type() ~ ')' %}

with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

policy_decisions as (
    select * from {{ ref('int_learning_policy_decisions') }}
),

risk_history as (
    select * from {{ ref('customer_risk_history') }}
),

risk_bands as (
    select * from {{ ref('ref_risk_bands') }}
),

settings_in_force as (
    select * from {{ ref('int_learning_settings_in_force') }}
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

-- each recorded outcome: its net value, its confidence, and the customer's risk band when the intervention was
-- decided (the policy's decision inputs; for a feed intervention the risk history of its generated date)
recorded as (
    select
        intervention_outcomes.intervention_id,
        intervention_outcomes.confidence,
        cast(
            case when intervention_outcomes.is_success then intervention_outcomes.estimated_revenue_saved else 0 end
            - intervention_outcomes.intervention_cost
            as double
        ) as net_value,
        case when intervention_outcomes.is_success then 1 else 0 end as success,
        case
            when intervention_outcomes.origin = 'policy' then policy_decisions.risk_band
            else risk_history.risk_band
        end as decision_risk_band
    from intervention_outcomes
    left join policy_decisions
        on intervention_outcomes.intervention_id = policy_decisions.intervention_id
    -- equalities only: a condition on the left side alone in an outer join makes DuckDB loop over all pairs
    left join risk_history
        on
        intervention_outcomes.customer_id = risk_history.customer_id
        and intervention_outcomes.generated_at = risk_history.as_of_date
    where
        not intervention_outcomes.is_pending
        and intervention_outcomes.is_success is not null
),

-- ---------------------------------------------------------------------------------- confidence floor

-- outcomes by step of the candidate grid (step k: confidence in [k * step, (k + 1) * step)); the sums over the
-- outcomes the floor in force keeps ride along, for a floor in force that is not on the grid
floor_outcomes as (
    select
        recorded.*,
        {{ learning_grid_ratio('recorded.confidence', 'learning_parameters.floor_candidate_step') }} as grid_ratio,
        coalesce(recorded.confidence >= settings_in_force.confidence_floor, false) as is_kept_in_force
    from recorded
    cross join learning_parameters
    cross join settings_in_force
    where recorded.confidence is not null
),

floor_sums as (
    select
        grid_ratio,
        count(*) as outcomes,
        sum(success) as successes,
        sum(net_value) as net_value_total,
        sum(net_value * net_value) as net_value_squares,
        count(case when is_kept_in_force then 1 end) as in_force_outcomes,
        sum(case when is_kept_in_force then success end) as in_force_successes,
        sum(case when is_kept_in_force then net_value end) as in_force_net_value_total,
        sum(case when is_kept_in_force then net_value * net_value end) as in_force_net_value_squares
    from floor_outcomes
    group by grid_ratio
),

floor_steps as (
    select
        cast(floor(grid_ratio) as integer) as step_index,
        sum(outcomes) as outcomes,
        sum(successes) as successes,
        sum(net_value_total) as net_value_total,
        sum(net_value_squares) as net_value_squares
    from floor_sums
    group by cast(floor(grid_ratio) as integer)
),

floor_grid as (
    select
        integer_steps.step as step_index,
        integer_steps.step * learning_parameters.floor_candidate_step as candidate_floor
    from {{ learning_integer_steps() }} as integer_steps
    cross join learning_parameters
    where integer_steps.step <= floor({{ learning_grid_ratio('1', 'learning_parameters.floor_candidate_step') }})
),

floor_grid_candidates as (
    select
        floor_grid.candidate_floor,
        coalesce(sum(floor_steps.outcomes), 0) as recorded_outcomes,
        coalesce(sum(floor_steps.successes), 0) as successes,
        coalesce(sum(floor_steps.net_value_total), 0) as net_value_total,
        coalesce(sum(floor_steps.net_value_squares), 0) as net_value_squares
    from floor_grid
    left join floor_steps
        on floor_grid.step_index <= floor_steps.step_index
    group by floor_grid.candidate_floor
),

-- the floor in force when it is not on the grid
floor_off_grid as (
    select
        settings_in_force.confidence_floor as candidate_floor,
        coalesce(sum(floor_sums.in_force_outcomes), 0) as recorded_outcomes,
        coalesce(sum(floor_sums.in_force_successes), 0) as successes,
        coalesce(sum(floor_sums.in_force_net_value_total), 0) as net_value_total,
        coalesce(sum(floor_sums.in_force_net_value_squares), 0) as net_value_squares
    from settings_in_force
    cross join learning_parameters
    left join floor_sums
        on settings_in_force.confidence_floor is not null
    where
        settings_in_force.confidence_floor is not null
        and round(settings_in_force.confidence_floor, 9) not in (
            select round(floor_grid.candidate_floor, 9) from floor_grid
        )
    group by settings_in_force.confidence_floor
),

floor_all_candidates as (
    select * from floor_grid_candidates
    union all
    select * from floor_off_grid
),

floor_candidates as (
    select
        'confidence_floor' as parameter,
        {{ learning_grid_text('floor_all_candidates.candidate_floor') }} as candidate_value,
        row_number() over (order by floor_all_candidates.candidate_floor) as candidate_order,
        coalesce(round(floor_all_candidates.candidate_floor, 9) = round(settings_in_force.confidence_floor, 9), false)
            as is_in_force,
        floor_all_candidates.recorded_outcomes,
        floor_all_candidates.successes,
        floor_all_candidates.net_value_total,
        floor_all_candidates.net_value_squares,
        -- the outcomes every candidate is weighed on (a dropped one counts 0)
        (select count(*) from floor_outcomes) as evaluated_outcomes,
        0 as unknown_band_outcomes
    from floor_all_candidates
    cross join settings_in_force
),

-- ---------------------------------------------------------------------------------- act-from risk band

banded as (
    select
        recorded.*,
        risk_bands.band_order
    from recorded
    left join risk_bands
        on recorded.decision_risk_band = risk_bands.risk_band
),

band_counts as (
    select
        count(band_order) as evaluated_outcomes,
        count(*) - count(band_order) as unknown_band_outcomes
    from banded
),

band_candidates as (
    select
        'act_min_band' as parameter,
        risk_bands.risk_band as candidate_value,
        risk_bands.band_order as candidate_order,
        coalesce(risk_bands.risk_band = settings_in_force.act_min_band, false) as is_in_force,
        count(banded.intervention_id) as recorded_outcomes,
        coalesce(sum(banded.success), 0) as successes,
        coalesce(sum(banded.net_value), 0) as net_value_total,
        coalesce(sum(banded.net_value * banded.net_value), 0) as net_value_squares,
        band_counts.evaluated_outcomes,
        band_counts.unknown_band_outcomes
    from risk_bands
    cross join settings_in_force
    cross join band_counts
    left join banded
        on risk_bands.band_order <= banded.band_order
    group by
        risk_bands.risk_band,
        risk_bands.band_order,
        settings_in_force.act_min_band,
        band_counts.evaluated_outcomes,
        band_counts.unknown_band_outcomes
),

-- ---------------------------------------------------------------------------------- both

candidates as (
    select * from floor_candidates
    union all
    select * from band_candidates
),

estimated as (
    select
        candidates.*,
        learning_parameters.min_outcomes_for_recommendation,
        learning_parameters.learning_config_hash,
        impact_parameters.confidence_level,
        -- the sum's standard error: sqrt(N * sample variance) over the N evaluated outcomes, 0 for the dropped
        impact_parameters.z_confidence * sqrt(
            candidates.evaluated_outcomes * {{ learning_variance_from_sums(
                'candidates.evaluated_outcomes', 'candidates.net_value_total', 'candidates.net_value_squares'
            ) }}
        ) as net_value_half_width,
        case
            when candidates.recorded_outcomes >= learning_parameters.min_outcomes_for_recommendation
                then 'measured'
            else 'insufficient data'
        end as status
    from candidates
    cross join learning_parameters
    cross join impact_parameters
),

ranked as (
    select
        estimated.*,
        row_number() over (
            partition by estimated.parameter
            order by
                case when estimated.status = 'measured' then 0 else 1 end,
                estimated.net_value_total desc,
                case when estimated.is_in_force then 0 else 1 end,
                estimated.candidate_order asc
        ) as value_rank
    from estimated
),

flagged as (
    select
        ranked.*,
        ranked.value_rank = 1 and ranked.status = 'measured' as is_best
    from ranked
),

-- what the conclusion of a parameter says, on each of its rows
facts as (
    select
        flagged.*,
        max(case when flagged.is_best then flagged.candidate_value end)
            over (partition by flagged.parameter)
            as best_value,
        max(case when flagged.is_best then flagged.net_value_total end)
            over (partition by flagged.parameter)
            as best_net_value,
        max(case when flagged.is_best then flagged.net_value_total - flagged.net_value_half_width end)
            over (partition by flagged.parameter)
            as best_ci_lower,
        max(case when flagged.is_best then flagged.net_value_total + flagged.net_value_half_width end)
            over (partition by flagged.parameter)
            as best_ci_upper,
        max(case when flagged.is_best then flagged.recorded_outcomes end)
            over (partition by flagged.parameter)
            as best_outcomes,
        max(case when flagged.is_best and flagged.is_in_force then 1 else 0 end)
            over (partition by flagged.parameter)
            as best_is_in_force,
        max(case when flagged.is_in_force then flagged.candidate_value end)
            over (partition by flagged.parameter)
            as in_force_value,
        max(case when flagged.is_in_force then flagged.net_value_total end)
            over (partition by flagged.parameter)
            as in_force_net_value,
        max(flagged.recorded_outcomes) over (partition by flagged.parameter) as most_outcomes
    from flagged
),

concluded as (
    select
        facts.*,
        case
            when not settings_in_force.has_policy_config
                then 'no policy config recorded yet (the policy has not run), so the setting in force is unknown; '
            else ''
        end
        || case
            when facts.best_value is null
                then
                    'insufficient data: at most ' || cast(facts.most_outcomes as {{ string_type() }})
                    || ' recorded outcomes behind a candidate, fewer than the '
                    || cast(facts.min_outcomes_for_recommendation as {{ string_type() }})
                    || ' needed; no recommendation'
            when facts.best_is_in_force = 1
                then
                    'the setting in force (' || facts.best_value
                    || ') has the highest net value on the recorded outcomes: '
                    || {{ money_text.format('facts.best_net_value') }} || ' ('
                    || {{ learning_percent_text('facts.confidence_level') }} || ' interval '
                    || {{ money_text.format('facts.best_ci_lower') }} || ' to '
                    || {{ money_text.format('facts.best_ci_upper') }}
                    || ') on ' || cast(facts.best_outcomes as {{ string_type() }}) || ' outcomes'
            else
                'a setting of ' || facts.best_value
                || ' would have had the highest net value on the recorded outcomes: '
                || {{ money_text.format('facts.best_net_value') }} || ' ('
                || {{ learning_percent_text('facts.confidence_level') }} || ' interval '
                || {{ money_text.format('facts.best_ci_lower') }} || ' to '
                || {{ money_text.format('facts.best_ci_upper') }}
                || ') on ' || cast(facts.best_outcomes as {{ string_type() }}) || ' outcomes, against '
                || coalesce(
                    {{ money_text.format('facts.in_force_net_value') }} || ' for the setting in force ('
                    || facts.in_force_value || ')',
                    'an unknown setting in force'
                )
        end
        || case
            when facts.unknown_band_outcomes > 0
                then
                    '; ' || cast(facts.unknown_band_outcomes as {{ string_type() }})
                    || ' recorded outcomes have no known risk band at decision time and are left out'
            else ''
        end
        || '. Observational (what happened to the interventions made, not an experiment); the policy is not changed.'
            as conclusion
    from facts
    cross join settings_in_force
),

final as (
    select
        cast(concluded.parameter as {{ string_type() }}) as parameter,
        cast(concluded.candidate_value as {{ string_type() }}) as candidate_value,
        cast(concluded.candidate_order as integer) as candidate_order,
        cast(concluded.in_force_value as {{ string_type() }}) as setting_in_force,
        cast(concluded.is_in_force as boolean) as is_in_force,
        cast(concluded.is_best as boolean) as is_best,
        cast(concluded.recorded_outcomes as bigint) as recorded_outcomes,
        cast(concluded.successes as bigint) as successes,
        cast(concluded.evaluated_outcomes as bigint) as evaluated_outcomes,
        cast(concluded.unknown_band_outcomes as bigint) as unknown_band_outcomes,
        cast(concluded.net_value_total as double) as expected_net_value,
        cast(
            case
                when concluded.recorded_outcomes > 0 then concluded.net_value_total / concluded.recorded_outcomes
            end as double
        ) as net_value_per_outcome,
        cast(concluded.net_value_total - concluded.net_value_half_width as double) as net_value_ci_lower,
        cast(concluded.net_value_total + concluded.net_value_half_width as double) as net_value_ci_upper,
        cast(concluded.confidence_level as double) as confidence_level,
        cast(concluded.status as {{ string_type() }}) as status,
        cast(concluded.conclusion as {{ string_type() }}) as conclusion,
        cast(true as boolean) as is_observational,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(concluded.learning_config_hash as {{ string_type() }}) as learning_config_hash
    from concluded
    cross join as_of
)

select * from final
