{#- The volume and drift monitors (var `dq_monitors`, dbt_project.yml): what quality.dq_metrics measures. -#}

{#- The optional fields of a feed (neither a key nor required, from the feed schema): their null share is
    monitored. -#}
{% macro feed_optional_fields(feed) -%}
    {%- set keys = journey_feeds()[feed] -%}
    {%- set optional = [] -%}
    {%- for field in feed_fields(feed) -%}
        {%- if field.name not in keys and not field.get('required', false) -%}
            {%- do optional.append(field.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(optional) }}
{%- endmacro %}

{#- The monitors of a feed or a mart: {'shares': [...], 'means': [...], 'nulls': [...]} (missing lists are
    empty). -#}
{% macro dq_monitor_spec(kind, name) -%}
    {%- set spec = (var('dq_monitors')[kind] or {}).get(name) or {} -%}
    {{ return({
        'shares': spec.get('shares', []),
        'means': spec.get('means', []),
        'nulls': spec.get('nulls', []),
    }) }}
{%- endmacro %}

{#- The fields of a feed whose null share is monitored: every optional field, and any listed under `nulls`. -#}
{% macro dq_feed_null_fields(feed) -%}
    {{ return(feed_optional_fields(feed) + dq_monitor_spec('feeds', feed)['nulls']) }}
{%- endmacro %}

{#- True for the records of this run's delivery: every loaded record in load_mode 'full' (the run reads all its
    files), in 'append' those read from this run's input folder (earlier runs' folders stay loaded). -#}
{% macro delivered_this_run(loaded_from) -%}
    {%- if load_mode() == 'full' -%}
        true
    {%- else -%}
        {%- set prefix = journey_setting('input_dir') ~ '/' -%}
        left({{ loaded_from }}, {{ prefix | length }}) = {{ sql_string(prefix) }}
    {%- endif -%}
{%- endmacro %}

{#- One metric row: the metric's columns in the order of quality.dq_metrics (as_of_date is added by the
    model). -#}
{% macro dq_metric_row(relation, metric, column, category, value, observed) -%}
    select
        {{ sql_string(relation) }} as monitored_relation,
        {{ sql_string(metric) }} as metric,
        {{ sql_string(column) if column else 'cast(null as ' ~ string_type() ~ ')' }} as metric_column,
        {{ category if category else 'cast(null as ' ~ string_type() ~ ')' }} as metric_category,
        cast({{ value }} as double) as metric_value,
        cast({{ observed }} as bigint) as observed_records
{%- endmacro %}

{#- The share of each value of `column` among the rows of `source` (those meeting `condition`, when given), out
    of `total` rows (an expression over the one-row `totals_cte`). With `categories` (a select of metric_category: the reference list of an enum field),
    every listed value gets a row, 0 when absent today: a value that disappears is a change too. -#}
{% macro dq_share_rows(relation, column, source, totals_cte, total, categories=none, condition=none) -%}
    select
        {{ sql_string(relation) }} as monitored_relation,
        'share' as metric,
        {{ sql_string(column) }} as metric_column,
        {{ 'seen' if categories else 'counted' }}.metric_category,
        cast({{ kpi_ratio('coalesce(counted.value_rows, 0)', total) }} as double) as metric_value,
        cast({{ total }} as bigint) as observed_records
    from
        {%- if categories %}
        ({{ categories }}) as seen
        left join (
        {%- else %}
        (
        {%- endif %}
            select cast({{ column }} as {{ string_type() }}) as metric_category, count(*) as value_rows
            from {{ source }}
            where {{ column }} is not null{% if condition %} and {{ condition }}{% endif %}
            group by 1
        ) as counted
        {%- if categories %}
            on seen.metric_category = counted.metric_category
        {%- endif %}
    cross join {{ totals_cte }}
{%- endmacro %}

{#- The accepted values of a feed's enum field (the feed schema's `accepted: ref_x.column`), as a select of
    metric_category; none for a field without a reference list. -#}
{% macro feed_field_categories(feed, field_name) -%}
    {%- for field in feed_fields(feed) if field.name == field_name and field.get('accepted') -%}
        {%- set seed, column = field['accepted'].split('.') -%}
        {{ return('select distinct lower(cast(' ~ column ~ ' as ' ~ string_type() ~ ')) as metric_category from ' ~ ref(seed)) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- relation_name, column_name, data_type of every column of `relations` as the engine has them now (called when
    the model runs, after those relations were built). DuckDB: one query of information_schema; elsewhere one
    adapter.get_columns_in_relation per relation. -#}
{% macro relation_columns(relations) -%}
    {{ return(adapter.dispatch('relation_columns', 'customer_journey')(relations)) }}
{%- endmacro %}

{% macro duckdb__relation_columns(relations) -%}
    select
        table_schema || '.' || table_name as relation_name,
        lower(column_name) as column_name,
        lower(data_type) as data_type
    from information_schema.columns
    where
        {%- for relation in relations %}
        (table_catalog = {{ sql_string(relation.database) }} and table_schema = {{ sql_string(relation.schema) }}
            and table_name = {{ sql_string(relation.identifier) }}){% if not loop.last %} or{% endif %}
        {%- endfor %}
{%- endmacro %}

{% macro default__relation_columns(relations) -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- for relation in relations -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do rows.append(
                    'select ' ~ sql_string(relation.schema ~ '.' ~ relation.identifier) ~ ' as relation_name, '
                    ~ sql_string(column.name | lower) ~ ' as column_name, '
                    ~ sql_string(column.data_type | lower) ~ ' as data_type'
                ) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows -%}
        {{ rows | join('\nunion all\n') }}
    {%- else -%}
        select
            cast(null as {{ string_type() }}) as relation_name,
            cast(null as {{ string_type() }}) as column_name,
            cast(null as {{ string_type() }}) as data_type
        where false
    {%- endif %}
{%- endmacro %}
