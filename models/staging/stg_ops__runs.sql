{#- ops.runs, typed, with the data-quality error count of each run (row_counts.data_quality.errors; null when the
    run recorded no data-quality totals). Empty when ops.runs does not exist (source_or_empty). -#}
with

runs as (
    select * from {{ source_or_empty('ops', 'runs') }}
),

final as (
    select
        cast(run_id as {{ string_type() }}) as run_id,
        cast(started_at as timestamp) as started_at,
        cast(finished_at as timestamp) as finished_at,
        cast(as_of_date as date) as as_of_date,
        cast(status as {{ string_type() }}) as status,
        cast(exit_code as integer) as exit_code,
        cast(published as boolean) as is_published,
        cast({{ json_text_at('row_counts', '$.data_quality.errors') }} as double) as dq_error_count
    from runs
)

select * from final
