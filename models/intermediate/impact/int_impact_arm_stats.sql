{#- Per method, metric, grouping (overall, action, segment, policy_version), grouping value, stratum and arm:
    the number of units, the number with a measured value, their mean and sample variance. One scan with
    grouping sets. Observational units have no policy_version, so that grouping is randomized only. -#}
with

observations as (
    select * from {{ ref('int_impact_observations') }}
),

grouped as (
    select
        method,
        metric,
        arm,
        stratum,
        recommended_action,
        segment,
        policy_version,
        grouping(recommended_action) as is_action_rolled_up,
        grouping(segment) as is_segment_rolled_up,
        grouping(policy_version) as is_version_rolled_up,
        count(*) as units,
        count(metric_value) as measured_units,
        avg(metric_value) as mean_value,
        var_samp(metric_value) as variance_value
    from observations
    -- sqlfluff's DuckDB dialect cannot parse GROUPING SETS: the parse error is silenced on its line only
    group by grouping sets (  -- noqa: PRS
        (method, metric, arm, stratum),
        (method, metric, arm, stratum, recommended_action),
        (method, metric, arm, stratum, segment),
        (method, metric, arm, stratum, policy_version)
    )
),

labelled as (
    select
        *,
        case
            when is_action_rolled_up = 0 then 'action'
            when is_segment_rolled_up = 0 then 'segment'
            when is_version_rolled_up = 0 then 'policy_version'
            else 'overall'
        end as grouping_name,
        case
            when is_action_rolled_up = 0 then coalesce(recommended_action, '(none)')
            when is_segment_rolled_up = 0 then coalesce(segment, '(none)')
            when is_version_rolled_up = 0 then coalesce(policy_version, '(none)')
            else 'all'
        end as grouping_value
    from grouped
),

final as (
    select
        method,
        metric,
        grouping_name,
        grouping_value,
        stratum,
        arm,
        units,
        measured_units,
        mean_value,
        variance_value
    from labelled
    where not (method = 'observational' and grouping_name = 'policy_version')
)

select * from final
