{#- One row per method x metric x grouping x grouping value: treated vs control, the effect with its interval,
    p-value, minimum detectable effect and required sample size, and a plain-words conclusion. Formulas:
    models/marts/impact/_impact__models.yml. The overall row of each method and metric is always present. -#}
{%- set percent_text = 'cast(cast(round(confidence_level * 100) as integer) as ' ~ string_type() ~ ')' %}

with

arm_stats as (
    select * from {{ ref('int_impact_arm_stats') }}
),

impact_metrics as (
    select * from {{ ref('ref_impact_metrics') }}
),

sample_ratio as (
    select * from {{ ref('holdout_sample_ratio') }}
    where population = 'eligible'
),

parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

-- treated and control side by side, per stratum
strata as (
    select
        method,
        metric,
        grouping_name,
        grouping_value,
        stratum,
        coalesce(sum(case when arm = 'treated' then units end), 0) as units_treated,
        coalesce(sum(case when arm = 'control' then units end), 0) as units_control,
        coalesce(sum(case when arm = 'treated' then measured_units end), 0) as n_treated,
        coalesce(sum(case when arm = 'control' then measured_units end), 0) as n_control,
        max(case when arm = 'treated' then mean_value end) as mean_treated,
        max(case when arm = 'control' then mean_value end) as mean_control,
        max(case when arm = 'treated' then variance_value end) as variance_treated,
        max(case when arm = 'control' then variance_value end) as variance_control
    from arm_stats
    group by method, metric, grouping_name, grouping_value, stratum
),

-- a stratum counts when both arms have at least two measured units (a variance needs two)
strata_weighted as (
    select
        strata.*,
        impact_metrics.metric_type,
        strata.n_treated >= 2 and strata.n_control >= 2 as is_matched,
        -- per-arm variance of one unit: sample variance for means, p (1 - p) for proportions
        case
            when impact_metrics.metric_type = 'proportion' then strata.mean_treated * (1 - strata.mean_treated)
            else strata.variance_treated
        end as unit_variance_treated,
        case
            when impact_metrics.metric_type = 'proportion' then strata.mean_control * (1 - strata.mean_control)
            else strata.variance_control
        end as unit_variance_control
    from strata
    inner join impact_metrics
        on strata.metric = impact_metrics.metric
),

strata_terms as (
    select
        *,
        sum(case when is_matched then n_treated end) over (
            partition by method, metric, grouping_name, grouping_value
        ) as matched_treated_total
    from strata_weighted
),

strata_contributions as (
    select
        *,
        case when is_matched then cast(n_treated as double) / matched_treated_total end as stratum_weight,
        case when is_matched then unit_variance_treated / n_treated end as squared_se_treated,
        case when is_matched then unit_variance_control / n_control end as squared_se_control
    from strata_terms
),

combined as (
    select
        method,
        metric,
        grouping_name,
        grouping_value,
        max(metric_type) as metric_type,
        count(*) as strata_total,
        count(case when is_matched then stratum end) as strata_matched,
        sum(units_treated) as units_treated,
        sum(units_control) as units_control,
        sum(n_treated) as measured_treated,
        sum(n_control) as measured_control,
        sum(case when is_matched then n_treated else 0 end) as n_treated,
        sum(case when is_matched then n_control else 0 end) as n_control,
        -- descriptive means over every measured unit (also when nothing is matched)
        sum(n_treated * mean_treated) / nullif(sum(n_treated), 0) as raw_mean_treated,
        sum(n_control * mean_control) / nullif(sum(n_control), 0) as raw_mean_control,
        -- matched means: control strata re-weighted to the treated units' strata (ATT)
        sum(stratum_weight * mean_treated) as matched_mean_treated,
        sum(stratum_weight * mean_control) as matched_mean_control,
        sum(stratum_weight * stratum_weight * (squared_se_treated + squared_se_control)) as squared_standard_error,
        sum(
            power(stratum_weight, 4) * (
                power(squared_se_treated, 2) / nullif(n_treated - 1, 0)
                + power(squared_se_control, 2) / nullif(n_control - 1, 0)
            )
        ) as satterthwaite_denominator
    from strata_contributions
    group by method, metric, grouping_name, grouping_value
),

methods as (
    select 'randomized' as method
    union all
    select 'observational' as method
),

-- every method x metric has an overall row, even with no units at all
frame as (
    select
        methods.method,
        impact_metrics.metric,
        'overall' as grouping_name,
        'all' as grouping_value
    from impact_metrics
    cross join methods
),

framed as (
    select
        combined.raw_mean_treated,
        combined.raw_mean_control,
        combined.matched_mean_treated,
        combined.matched_mean_control,
        combined.squared_standard_error,
        combined.satterthwaite_denominator,
        coalesce(combined.method, frame.method) as method,
        coalesce(combined.metric, frame.metric) as metric,
        coalesce(combined.grouping_name, frame.grouping_name) as grouping_name,
        coalesce(combined.grouping_value, frame.grouping_value) as grouping_value,
        coalesce(combined.strata_total, 0) as strata_total,
        coalesce(combined.strata_matched, 0) as strata_matched,
        coalesce(combined.units_treated, 0) as units_treated,
        coalesce(combined.units_control, 0) as units_control,
        coalesce(combined.measured_treated, 0) as measured_treated,
        coalesce(combined.measured_control, 0) as measured_control,
        coalesce(combined.n_treated, 0) as n_treated,
        coalesce(combined.n_control, 0) as n_control
    from combined
    full outer join frame
        on combined.method = frame.method
        and combined.metric = frame.metric
        and combined.grouping_name = frame.grouping_name
        and combined.grouping_value = frame.grouping_value
),

estimated as (
    select
        framed.*,
        impact_metrics.metric_type,
        impact_metrics.better_direction,
        impact_metrics.minimum_effect,
        impact_metrics.is_observable_in_control,
        parameters.confidence_level,
        parameters.alpha,
        parameters.z_confidence,
        parameters.z_power,
        parameters.min_sample_per_arm,
        parameters.experiment_config_hash,
        sample_ratio.p_value as srm_p_value,
        sample_ratio.is_sample_ratio_mismatch,
        as_of.as_of_date,
        (
            framed.n_treated >= parameters.min_sample_per_arm
            and framed.n_control >= parameters.min_sample_per_arm
        ) as has_enough_data,
        case
            when framed.method = 'randomized' and impact_metrics.metric_type = 'proportion' then 'newcombe_wilson'
            when framed.method = 'randomized' then 'welch_t'
            when impact_metrics.metric_type = 'proportion' then 'stratified_wald'
            else 'stratified_welch_t'
        end as interval_method,
        framed.matched_mean_treated - framed.matched_mean_control as point_effect,
        sqrt(framed.squared_standard_error) as point_standard_error,
        case
            when impact_metrics.metric_type = 'mean' and framed.satterthwaite_denominator > 0
                then power(framed.squared_standard_error, 2) / framed.satterthwaite_denominator
        end as welch_degrees_of_freedom
    from framed
    inner join impact_metrics
        on framed.metric = impact_metrics.metric
    cross join parameters
    cross join as_of
    left join sample_ratio
        on framed.method = 'randomized'
        and framed.grouping_name = sample_ratio.grouping_name
        and framed.grouping_value = sample_ratio.grouping_value
),

with_critical as (
    select
        *,
        {{ t_quantile('z_confidence', 'welch_degrees_of_freedom') }} as critical_value,
        point_effect / nullif(point_standard_error, 0) as test_statistic,
        -- pooled two-proportion z statistic (randomized proportions)
        case
            when metric_type = 'proportion'
                then point_effect / nullif(
                    sqrt(greatest(
                        0.0,
                        (
                            (n_treated * matched_mean_treated + n_control * matched_mean_control)
                            / nullif(n_treated + n_control, 0)
                        )
                        * (
                            1
                            - (n_treated * matched_mean_treated + n_control * matched_mean_control)
                            / nullif(n_treated + n_control, 0)
                        )
                        * (1.0 / nullif(n_treated, 0) + 1.0 / nullif(n_control, 0))
                    )),
                    0
                )
        end as pooled_z_statistic
    from estimated
),

intervals as (
    select
        *,
        case
            when interval_method = 'newcombe_wilson'
                then point_effect - sqrt(
                    power(
                        matched_mean_treated
                        - {{ wilson_lower('matched_mean_treated', 'n_treated', 'z_confidence') }},
                        2
                    )
                    + power(
                        {{ wilson_upper('matched_mean_control', 'n_control', 'z_confidence') }}
                        - matched_mean_control,
                        2
                    )
                )
            else point_effect - critical_value * point_standard_error
        end as interval_lower,
        case
            when interval_method = 'newcombe_wilson'
                then point_effect + sqrt(
                    power(
                        {{ wilson_upper('matched_mean_treated', 'n_treated', 'z_confidence') }}
                        - matched_mean_treated,
                        2
                    )
                    + power(
                        matched_mean_control
                        - {{ wilson_lower('matched_mean_control', 'n_control', 'z_confidence') }},
                        2
                    )
                )
            else point_effect + critical_value * point_standard_error
        end as interval_upper,
        case
            when point_standard_error = 0 or (interval_method = 'newcombe_wilson' and pooled_z_statistic is null)
                then case when point_effect = 0 then 1.0 else 0.0 end
            when interval_method = 'newcombe_wilson' then {{ t_two_sided_p_value('pooled_z_statistic', 'null') }}
            else {{ t_two_sided_p_value('test_statistic', 'welch_degrees_of_freedom') }}
        end as point_p_value,
        (critical_value + z_power) * point_standard_error as point_mde,
        -- the per-unit variance of a balanced two-arm design with the same standard error
        (
            point_standard_error * point_standard_error
            / nullif(1.0 / nullif(n_treated, 0) + 1.0 / nullif(n_control, 0), 0)
        ) as equivalent_unit_variance
    from with_critical
),

classified as (
    select
        *,
        case
            when not is_observable_in_control and units_control > 0 then 'not_measurable'
            when not has_enough_data then 'insufficient_data'
            when is_sample_ratio_mismatch then 'sample_ratio_mismatch'
            when point_p_value < alpha and (
                (better_direction = 'lower' and point_effect < 0) or (better_direction = 'higher' and point_effect > 0)
            ) then 'significant_improvement'
            when point_p_value < alpha then 'significant_harm'
            else 'not_significant'
        end as status
    from intervals
),

final as (
    select
        cast(method as {{ string_type() }}) as method,
        cast(metric as {{ string_type() }}) as metric,
        cast(grouping_name as {{ string_type() }}) as grouping_name,
        cast(grouping_value as {{ string_type() }}) as grouping_value,
        cast(metric_type as {{ string_type() }}) as metric_type,
        cast(better_direction as {{ string_type() }}) as better_direction,
        cast(units_treated as bigint) as units_treated,
        cast(units_control as bigint) as units_control,
        cast(n_treated as bigint) as n_treated,
        cast(n_control as bigint) as n_control,
        cast(strata_matched as integer) as strata_matched,
        cast(strata_total as integer) as strata_total,
        cast(case when has_enough_data then matched_mean_treated else raw_mean_treated end as double)
            as mean_treated,
        cast(case when has_enough_data then matched_mean_control else raw_mean_control end as double)
            as mean_control,
        cast(case when has_enough_data then point_effect end as double) as effect,
        cast(
            case
                when has_enough_data and abs(matched_mean_control) > 1e-12
                    then point_effect / abs(matched_mean_control)
            end
            as double
        ) as relative_effect,
        cast(case when has_enough_data then interval_lower end as double) as ci_lower,
        cast(case when has_enough_data then interval_upper end as double) as ci_upper,
        cast(confidence_level as double) as confidence_level,
        cast(case when has_enough_data then point_standard_error end as double) as standard_error,
        cast(case when has_enough_data then welch_degrees_of_freedom end as double) as degrees_of_freedom,
        cast(case when has_enough_data then point_p_value end as double) as p_value,
        cast(case when has_enough_data then point_mde end as double) as mde,
        cast(minimum_effect as double) as minimum_effect_of_interest,
        cast(
            case
                when equivalent_unit_variance > 0 then
                    ceil(2 * power(z_confidence + z_power, 2) * equivalent_unit_variance / power(minimum_effect, 2))
            end as bigint
        ) as required_n_per_arm,
        cast(min_sample_per_arm as integer) as min_sample_per_arm,
        cast(interval_method as {{ string_type() }}) as interval_method,
        cast(srm_p_value as double) as srm_p_value,
        cast(is_sample_ratio_mismatch as boolean) as is_sample_ratio_mismatch,
        cast(status in ('significant_improvement', 'significant_harm') as boolean) as is_significant,
        cast(status as {{ string_type() }}) as status,
        cast(
            case status
                when 'not_measurable'
                    then
                        'not measurable: ' || metric || ' is recorded only in the outcome of an intervention, and'
                        || ' control customers get none; the treated mean is descriptive only'
                when 'insufficient_data'
                    then
                        'insufficient data: '
                        || case
                            when units_treated + units_control = 0 and method = 'randomized'
                                then 'no experiment units yet (the policy has made no act or holdout decision); '
                            when units_treated + units_control = 0
                                then
                                    'no experiment units yet (customer_risk_history needs a second as-of date'
                                    || ' for a study window); '
                            else ''
                        end
                        || cast(n_treated as {{ string_type() }}) || ' treated and '
                        || cast(n_control as {{ string_type() }}) || ' control units with a measured outcome'
                        || case when strata_total > 1 then ' in matched strata' else '' end
                        || ', fewer than the ' || cast(min_sample_per_arm as {{ string_type() }})
                        || ' per arm needed; no effect is estimated'
                when 'sample_ratio_mismatch'
                    then
                        'not trustworthy: the holdout split does not match the configured share (sample ratio'
                        || ' mismatch), so the arms are not comparable'
                when 'significant_improvement'
                    then
                        'significant improvement at the ' || {{ percent_text }}
                        || '% level: the interval excludes 0'
                when 'significant_harm'
                    then
                        'significant harm at the ' || {{ percent_text }}
                        || '% level: the interval excludes 0 on the wrong side'
                else
                    'no significant effect at the ' || {{ percent_text }}
                    || '% level: the interval includes 0; effects smaller than the mde cannot be ruled out'
            end as {{ string_type() }}
        ) as conclusion,
        cast(experiment_config_hash as {{ string_type() }}) as experiment_config_hash,
        cast(as_of_date as date) as as_of_date
    from classified
)

select * from final
