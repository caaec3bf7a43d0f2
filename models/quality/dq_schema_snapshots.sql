{#- The columns (and their types) of every staged feed and of every mart in var `dq_monitors`, as this run built
    them: read from the engine when this model runs, after those models (adapter.get_columns_in_relation).
    Incremental: a run adds the rows of its as_of_date and a rerun of a date replaces them;
    quality.dq_schema_changes compares a run with the one before. -#}
{{
    config(
        materialized='incremental',
        unique_key='as_of_date',
        incremental_strategy=replace_keys_strategy(),
        partition_by=replace_keys_partition('as_of_date'),
        on_schema_change='append_new_columns',
    )
}}

{%- set relations = [] %}
{%- for feed in journey_feeds() %}
{%- do relations.append(ref('stg_' ~ feed)) %}
{%- endfor %}
{%- for mart in var('dq_monitors')['marts'] %}
{%- do relations.append(ref(mart)) %}
{%- endfor %}

with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

columns_now as (
    {%- if execute %}
    {%- for relation in relations %}
    {%- set relation_loop = loop %}
    {%- for column in adapter.get_columns_in_relation(relation) %}
    select
        {{ sql_string(relation.schema ~ '.' ~ relation.identifier) }} as relation_name,
        {{ sql_string(column.name | lower) }} as column_name,
        {{ sql_string(column.data_type | lower) }} as data_type
    {%- if not (relation_loop.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
    {%- else %}
    select
        cast(null as {{ string_type() }}) as relation_name,
        cast(null as {{ string_type() }}) as column_name,
        cast(null as {{ string_type() }}) as data_type
    {%- endif %}
),

final as (
    select
        as_of.as_of_date,
        cast(columns_now.relation_name as {{ string_type() }}) as relation_name,
        cast(columns_now.column_name as {{ string_type() }}) as column_name,
        cast(columns_now.data_type as {{ string_type() }}) as data_type
    from columns_now
    cross join as_of
)

select * from final
