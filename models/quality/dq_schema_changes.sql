{#- What changed in the columns of the monitored tables since the previous run date recorded in
    quality.dq_schema_snapshots: a column added, removed, or with another type. No rows on the first run date.
    The Great Expectations expectation schema_changes (a warning) reports them. -#}
with

snapshots as (
    select * from {{ ref('dq_schema_snapshots') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

previous_date as (
    select max(snapshots.as_of_date) as previous_as_of_date
    from snapshots
    inner join as_of
        on snapshots.as_of_date < as_of.as_of_date
),

current_columns as (
    select snapshots.*
    from snapshots
    inner join as_of
        on snapshots.as_of_date = as_of.as_of_date
),

previous_columns as (
    select snapshots.*
    from snapshots
    inner join previous_date
        on snapshots.as_of_date = previous_date.previous_as_of_date
),

compared as (
    select
        previous_columns.data_type as previous_data_type,
        current_columns.data_type,
        coalesce(current_columns.relation_name, previous_columns.relation_name) as relation_name,
        coalesce(current_columns.column_name, previous_columns.column_name) as column_name,
        case
            when previous_columns.column_name is null then 'added'
            when current_columns.column_name is null then 'removed'
            when current_columns.data_type <> previous_columns.data_type then 'type_changed'
        end as change_type
    from current_columns
    full outer join previous_columns
        on
        current_columns.relation_name = previous_columns.relation_name
        and current_columns.column_name = previous_columns.column_name
),

final as (
    select
        as_of.as_of_date,
        previous_date.previous_as_of_date,
        compared.relation_name,
        compared.column_name,
        compared.change_type,
        compared.previous_data_type,
        compared.data_type
    from compared
    cross join as_of
    cross join previous_date
    where compared.change_type is not null and previous_date.previous_as_of_date is not null
)

select * from final
