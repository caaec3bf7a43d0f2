{#- The impact configuration as one row: the parameters of ref_experiment_parameters as columns, the normal
    quantiles they imply (z for the two-sided confidence level and for the power), and a hash of every reference
    row the impact marts depend on (experiment parameters and metric definitions), carried by each output row. -#}
with

experiment_parameters as (
    select * from {{ ref('ref_experiment_parameters') }}
),

impact_metrics as (
    select * from {{ ref('ref_impact_metrics') }}
),

config_lines as (
    select
        'experiment_parameter' as config_table,
        parameter || '=' || cast(value as {{ string_type() }}) as config_line
    from experiment_parameters

    union all

    select
        'impact_metric' as config_table,
        metric || '=' || metric_type || '/' || better_direction || '/' || cast(minimum_effect as {{ string_type() }})
            as config_line
    from impact_metrics
),

config_hash as (
    select
        {{ dbt.hash(dbt.listagg(
            "config_table || ':' || config_line", sql_string('\\n'), "order by config_table, config_line"
        )) }}
            as experiment_config_hash
    from config_lines
),

pivoted as (
    select
        max(case when parameter = 'confidence_level' then cast(value as double) end) as confidence_level,
        max(case when parameter = 'power' then cast(value as double) end) as statistical_power,
        max(case when parameter = 'min_sample_per_arm' then cast(value as integer) end) as min_sample_per_arm,
        max(case when parameter = 'srm_alpha' then cast(value as double) end) as srm_alpha,
        max(case when parameter = 'outcome_window_days' then cast(value as integer) end) as outcome_window_days,
        max(case when parameter = 'success_min_risk_drop' then cast(value as double) end)
            as success_min_risk_drop
    from experiment_parameters
),

quantiles as (
    select
        *,
        1 - confidence_level as alpha,
        {{ normal_quantile('1 - (1 - confidence_level) / 2') }} as z_confidence,
        {{ normal_quantile('statistical_power') }} as z_power
    from pivoted
),

final as (
    select
        quantiles.confidence_level,
        quantiles.alpha,
        quantiles.statistical_power,
        quantiles.min_sample_per_arm,
        quantiles.srm_alpha,
        quantiles.outcome_window_days,
        quantiles.success_min_risk_drop,
        quantiles.z_confidence,
        quantiles.z_power,
        config_hash.experiment_config_hash
    from quantiles
    cross join config_hash
)

select * from final
