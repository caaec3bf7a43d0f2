{#- The columns (and their types) of every staged feed and of every mart in var `dq_monitors`, as this run built
    them: read from the engine when this model runs, after those models (macros/dq_monitors.sql relation_columns).
    Incremental: a run adds the rows of its as_of_date and a rerun of a date replaces them;
    quality.dq_schema_changes compares a run with the one before. -#}
{{ config(**daily_history_config()) }}

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
    {{ relation_columns(relations) }}
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
