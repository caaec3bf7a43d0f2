{#- One pass over the feed (macros/stage_feed.sql stage_feed): incremental by key group in load_mode 'append' (a
    rerun of a file replaces its records; dbt's --full-refresh still rebuilds), rebuilt from this run's files in
    load_mode 'full' (the default). -#}
{{ config(**feed_model_config()) }}

{{ stage_feed('interventions') }}
