{#- Is the policy's confidence a probability? The interventions with a recorded outcome known on as_of_date, by
    origin (feed, policy, and both: 'all') and confidence bin: how many, how many succeeded, the success rate
    with its Wilson interval, the mean confidence, and the gap between them; per origin one summary row
    (confidence_bin 'all') with the Brier score and the expected calibration error. Every bin of every origin is
    a row, also without outcomes. Incremental: a run adds the rows of its as_of_date (a daily history) and a
    rerun of a date replaces them. Formulas: docs/learning-outcomes.md. -#}
{{ config(**daily_history_config()) }}

with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

confidence_bins as (
    select * from {{ ref('int_learning_confidence_bins') }}
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

recorded as (
    select
        intervention_outcomes.origin,
        intervention_outcomes.confidence,
        case when intervention_outcomes.is_success then 1 else 0 end as success,
        {{ learning_confidence_bin('intervention_outcomes.confidence', 'learning_parameters.confidence_bin_width') }}
            as bin_index
    from intervention_outcomes
    cross join learning_parameters
    where
        not intervention_outcomes.is_pending
        and intervention_outcomes.is_success is not null
        and intervention_outcomes.confidence is not null
),

by_origin_and_bin as (
    select
        origin,
        bin_index,
        count(*) as recorded_outcomes,
        sum(success) as successes,
        sum(confidence) as confidence_total,
        sum((confidence - success) * (confidence - success)) as squared_error_total
    from recorded
    group by origin, bin_index
),

-- the same sums over both origins
by_bin as (
    select
        origin,
        bin_index,
        recorded_outcomes,
        successes,
        confidence_total,
        squared_error_total
    from by_origin_and_bin

    union all

    select
        'all' as origin,
        bin_index,
        sum(recorded_outcomes) as recorded_outcomes,
        sum(successes) as successes,
        sum(confidence_total) as confidence_total,
        sum(squared_error_total) as squared_error_total
    from by_origin_and_bin
    group by bin_index
),

origins as (
    select 'feed' as origin
    union all
    select 'policy' as origin
    union all
    select 'all' as origin
),

-- every origin x bin, with or without outcomes
bin_rows as (
    select
        origins.origin,
        confidence_bins.confidence_bin,
        confidence_bins.bin_order,
        confidence_bins.bin_lower,
        confidence_bins.bin_upper,
        by_bin.confidence_total,
        by_bin.squared_error_total,
        coalesce(by_bin.recorded_outcomes, 0) as recorded_outcomes,
        coalesce(by_bin.successes, 0) as successes
    from origins
    cross join confidence_bins
    left join by_bin
        on
        origins.origin = by_bin.origin
        and confidence_bins.bin_index = by_bin.bin_index
),

bin_measures as (
    select
        *,
        {{ kpi_ratio('successes', 'recorded_outcomes') }} as success_rate,
        case when recorded_outcomes > 0 then confidence_total / recorded_outcomes end as mean_confidence
    from bin_rows
),

origin_totals as (
    select
        origin,
        sum(recorded_outcomes) as recorded_outcomes,
        sum(successes) as successes,
        sum(confidence_total) as confidence_total,
        sum(squared_error_total) as squared_error_total
    from bin_measures
    group by origin
),

-- ECE = sum over bins of n_bin / n * |success_rate_bin - mean_confidence_bin|
calibration_errors as (
    select
        bin_measures.origin,
        sum(
            bin_measures.recorded_outcomes * abs(bin_measures.success_rate - bin_measures.mean_confidence)
        ) / nullif(max(origin_totals.recorded_outcomes), 0) as expected_calibration_error
    from bin_measures
    inner join origin_totals
        on bin_measures.origin = origin_totals.origin
    where bin_measures.recorded_outcomes > 0
    group by bin_measures.origin
),

summary_rows as (
    select
        origin_totals.origin,
        'all' as confidence_bin,
        0 as bin_order,
        0.0 as bin_lower,
        1.0 as bin_upper,
        origin_totals.recorded_outcomes,
        origin_totals.successes,
        calibration_errors.expected_calibration_error,
        {{ kpi_ratio('origin_totals.successes', 'origin_totals.recorded_outcomes') }} as success_rate,
        case
            when origin_totals.recorded_outcomes > 0
                then origin_totals.confidence_total / origin_totals.recorded_outcomes
        end as mean_confidence,
        case
            when origin_totals.recorded_outcomes > 0
                then origin_totals.squared_error_total / origin_totals.recorded_outcomes
        end as brier_score
    from origin_totals
    left join calibration_errors
        on origin_totals.origin = calibration_errors.origin
),

all_rows as (
    select
        origin,
        confidence_bin,
        bin_order,
        bin_lower,
        bin_upper,
        recorded_outcomes,
        successes,
        success_rate,
        mean_confidence,
        cast(null as double) as brier_score,
        cast(null as double) as expected_calibration_error
    from bin_measures

    union all

    select
        origin,
        confidence_bin,
        bin_order,
        bin_lower,
        bin_upper,
        recorded_outcomes,
        successes,
        success_rate,
        mean_confidence,
        brier_score,
        expected_calibration_error
    from summary_rows
),

measured as (
    select
        all_rows.*,
        {{ wilson_lower('all_rows.success_rate', 'all_rows.recorded_outcomes', 'impact_parameters.z_confidence') }}
            as success_rate_ci_lower,
        {{ wilson_upper('all_rows.success_rate', 'all_rows.recorded_outcomes', 'impact_parameters.z_confidence') }}
            as success_rate_ci_upper,
        all_rows.success_rate - all_rows.mean_confidence as calibration_gap,
        impact_parameters.confidence_level,
        learning_parameters.min_outcomes_per_bin,
        learning_parameters.learning_config_hash,
        case
            when all_rows.recorded_outcomes >= learning_parameters.min_outcomes_per_bin then 'measured'
            else 'insufficient data'
        end as status
    from all_rows
    cross join impact_parameters
    cross join learning_parameters
),

final as (
    select
        cast(as_of.as_of_date as date) as as_of_date,
        cast(measured.origin as {{ string_type() }}) as origin,
        cast(measured.confidence_bin as {{ string_type() }}) as confidence_bin,
        cast(measured.bin_order as integer) as bin_order,
        cast(measured.bin_lower as double) as bin_lower,
        cast(measured.bin_upper as double) as bin_upper,
        cast(measured.recorded_outcomes as bigint) as recorded_outcomes,
        cast(measured.successes as bigint) as successes,
        cast(measured.success_rate as double) as success_rate,
        cast(measured.success_rate_ci_lower as double) as success_rate_ci_lower,
        cast(measured.success_rate_ci_upper as double) as success_rate_ci_upper,
        cast(measured.confidence_level as double) as confidence_level,
        cast(measured.mean_confidence as double) as mean_confidence,
        cast(measured.calibration_gap as double) as calibration_gap,
        cast(measured.brier_score as double) as brier_score,
        cast(measured.expected_calibration_error as double) as expected_calibration_error,
        cast(measured.status as {{ string_type() }}) as status,
        cast(
            case
                when measured.recorded_outcomes = 0
                    then 'insufficient data: no recorded outcomes'
                when measured.status = 'insufficient data'
                    then
                        'insufficient data: ' || cast(measured.recorded_outcomes as {{ string_type() }})
                        || ' recorded outcomes, fewer than the '
                        || cast(measured.min_outcomes_per_bin as {{ string_type() }}) || ' needed'
                when measured.success_rate_ci_upper < measured.mean_confidence
                    then
                        'over-confident: ' || {{ learning_percent_text('measured.success_rate') }}
                        || ' succeeded at a mean confidence of '
                        || {{ learning_percent_text('measured.mean_confidence') }}
                        || '; the interval lies below it'
                when measured.success_rate_ci_lower > measured.mean_confidence
                    then
                        'under-confident: ' || {{ learning_percent_text('measured.success_rate') }}
                        || ' succeeded at a mean confidence of '
                        || {{ learning_percent_text('measured.mean_confidence') }}
                        || '; the interval lies above it'
                else
                    'consistent: ' || {{ learning_percent_text('measured.success_rate') }}
                    || ' succeeded at a mean confidence of ' || {{ learning_percent_text('measured.mean_confidence') }}
                    || '; the interval includes it'
            end as {{ string_type() }}
        ) as conclusion,
        cast(measured.learning_config_hash as {{ string_type() }}) as learning_config_hash
    from measured
    cross join as_of
)

select * from final
