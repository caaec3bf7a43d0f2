{#- ops.check_history (journey/checks.py): one row per check per kept run, typed; a dbt model may join it to the
    marts. Empty when ops.check_history does not exist (source_or_empty): a database built by `dbt build` alone,
    or the first run (journey run writes the table after this view is built). -#}
with

check_history as (
    select * from {{ source_or_empty('ops', 'check_history') }}
),

final as (
    select
        cast(run_id as {{ string_type() }}) as run_id,
        cast(as_of_date as date) as as_of_date,
        cast(check_id as {{ string_type() }}) as check_id,
        cast(check_home as {{ string_type() }}) as check_home,
        cast(check_type as {{ string_type() }}) as check_type,
        cast(relation_name as {{ string_type() }}) as relation_name,
        cast(severity as {{ string_type() }}) as severity,
        cast(status as {{ string_type() }}) as status,
        cast(failing_count as bigint) as failing_count,
        cast(duration_s as double) as duration_s,
        cast(message as {{ string_type() }}) as message,
        cast(recorded_at as timestamp) as recorded_at,
        status not in ('pass', 'skipped') as is_failing
    from check_history
)

select * from final
