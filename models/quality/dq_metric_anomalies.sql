{#- Each metric of this run (quality.dq_metrics at as_of_date) judged against its own trailing window: the
    metric's values on the last window_runs earlier run dates. The baseline's centre is the median and its
    spread the median absolute deviation (MAD), so one odd day in the window (the first full load, an earlier
    anomaly) does not hide the next. An anomaly: at least min_history_runs dates of history, a move of at least
    min_share_change (shares) or min_relative_change x |median| (counts, means), and a robust z-score
    (value - median) / (1.4826 x MAD) beyond z_threshold (any such move when the baseline never varied).
    Parameters: seeds/ref_dq_monitor_parameters.csv. The Great Expectations expectation metric_anomalies (a
    warning) reports the rows with is_anomaly. band_half_width is the move that makes an anomaly by z alone
    (z_threshold x 1.4826 x MAD): the report draws the normal band median +/- it. -#}
{%- set mad_to_sigma = 1.4826 %}{#- the MAD of a normal sample x this = its standard deviation #}

with

metrics as (
    select * from {{ ref('dq_metrics') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

monitor_parameters as (
    select * from {{ ref('ref_dq_monitor_parameters') }}
),

parameters as (
    select
        max(case when parameter = 'window_runs' then cast(value as integer) end) as window_runs,
        max(case when parameter = 'min_history_runs' then cast(value as integer) end) as min_history_runs,
        max(case when parameter = 'z_threshold' then cast(value as double) end) as z_threshold,
        max(case when parameter = 'min_share_change' then cast(value as double) end) as min_share_change,
        max(case when parameter = 'min_relative_change' then cast(value as double) end) as min_relative_change
    from monitor_parameters
),

today as (
    select metrics.*
    from metrics
    inner join as_of
        on metrics.as_of_date = as_of.as_of_date
),

earlier as (
    select
        metrics.metric_key,
        metrics.metric_value,
        row_number() over (partition by metrics.metric_key order by metrics.as_of_date desc) as recency
    from metrics
    inner join as_of
        on metrics.as_of_date < as_of.as_of_date
    where metrics.metric_value is not null
),

baseline as (
    select earlier.*
    from earlier
    cross join parameters
    where earlier.recency <= parameters.window_runs
),

centre as (
    select
        metric_key,
        count(*) as baseline_runs,
        {{ percentile_continuous('metric_value', 0.5) }} as baseline_median
    from baseline
    group by metric_key
),

spread as (
    select
        baseline.metric_key,
        {{ percentile_continuous('abs(baseline.metric_value - centre.baseline_median)', 0.5) }} as baseline_mad
    from baseline
    inner join centre
        on baseline.metric_key = centre.metric_key
    group by baseline.metric_key
),

measured as (
    select
        today.as_of_date,
        today.metric_key,
        today.monitored_relation,
        today.metric,
        today.metric_column,
        today.metric_category,
        today.metric_value,
        centre.baseline_median,
        spread.baseline_mad,
        parameters.min_history_runs,
        parameters.z_threshold,
        cast(coalesce(centre.baseline_runs, 0) as integer) as baseline_runs,
        case
            when spread.baseline_mad > 0
                then (today.metric_value - centre.baseline_median) / ({{ mad_to_sigma }} * spread.baseline_mad)
        end as robust_z,
        parameters.z_threshold * {{ mad_to_sigma }} * spread.baseline_mad as band_half_width,
        abs(today.metric_value - centre.baseline_median) as moved_by,
        case
            when today.metric in ('null_share', 'share', 'rejected_share') then parameters.min_share_change
            else parameters.min_relative_change * abs(centre.baseline_median)
        end as min_move
    from today
    cross join parameters
    left join centre
        on today.metric_key = centre.metric_key
    left join spread
        on today.metric_key = spread.metric_key
),

final as (
    select
        as_of_date,
        metric_key,
        monitored_relation,
        metric,
        metric_column,
        metric_category,
        metric_value,
        baseline_runs,
        cast(baseline_median as double) as baseline_median,
        cast(baseline_mad as double) as baseline_mad,
        cast(robust_z as double) as robust_z,
        cast(band_half_width as double) as band_half_width,
        coalesce(
            baseline_runs >= min_history_runs
            and moved_by > 0
            and moved_by >= min_move
            and (baseline_mad = 0 or abs(robust_z) > z_threshold),
            false
        ) as is_anomaly,
        case
            when metric_value > baseline_median then 'up'
            when metric_value < baseline_median then 'down'
        end as direction
    from measured
)

select * from final
