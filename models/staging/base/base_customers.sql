{#- Incremental in load_mode 'append' (new files are added; a rerun of a file replaces its rows; dbt's
    --full-refresh still rebuilds), rebuilt from this run's files in load_mode 'full' (the default). -#}
{{ config(
    full_refresh=(true if load_mode() == 'full' else none),
    incremental_strategy=replace_keys_strategy(),
    partition_by=replace_keys_partition('loaded_from'),
) }}

{{ stage_feed_records('customers') }}
