{#- The learning marts' configuration as one row: the parameters of ref_learning_parameters as columns, and a hash
    of them, so each learning row says which configuration produced it. -#}
with

learning_parameters as (
    select * from {{ ref('ref_learning_parameters') }}
),

config_hash as (
    select
        {{ dbt.hash(dbt.listagg(
            "parameter || '=' || cast(value as " ~ string_type() ~ ")", sql_string('\\n'), "order by parameter"
        )) }}
            as learning_config_hash
    from learning_parameters
),

pivoted as (
    select
        max(case when parameter = 'event_window_days' then cast(value as integer) end) as event_window_days,
        max(case when parameter = 'confidence_bin_width' then cast(value as double) end) as confidence_bin_width,
        max(case when parameter = 'floor_candidate_step' then cast(value as double) end) as floor_candidate_step,
        max(case when parameter = 'min_outcomes_for_recommendation' then cast(value as integer) end)
            as min_outcomes_for_recommendation,
        max(case when parameter = 'min_outcomes_per_bin' then cast(value as integer) end) as min_outcomes_per_bin,
        max(case when parameter = 'min_signals_for_ranking' then cast(value as integer) end)
            as min_signals_for_ranking,
        max(case when parameter = 'min_events_for_backtest' then cast(value as integer) end)
            as min_events_for_backtest,
        max(case when parameter = 'score_bins' then cast(value as integer) end) as score_bins
    from learning_parameters
),

final as (
    select
        pivoted.event_window_days,
        pivoted.confidence_bin_width,
        pivoted.floor_candidate_step,
        pivoted.min_outcomes_for_recommendation,
        pivoted.min_outcomes_per_bin,
        pivoted.min_signals_for_ranking,
        pivoted.min_events_for_backtest,
        pivoted.score_bins,
        config_hash.learning_config_hash
    from pivoted
    cross join config_hash
)

select * from final
