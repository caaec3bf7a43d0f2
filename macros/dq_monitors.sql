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

{#- The share of each value of `column` among the rows of `cte` (every value seen in `all_rows`, the whole
    table, gets a row, 0 when absent today: a value that disappears is a change too). -#}
{% macro dq_share_rows(relation, column, cte, all_rows) -%}
    select
        {{ sql_string(relation) }} as monitored_relation,
        'share' as metric,
        {{ sql_string(column) }} as metric_column,
        seen.metric_category,
        cast({{ kpi_ratio('coalesce(counted.value_rows, 0)', 'totals.total_rows') }} as double) as metric_value,
        cast(totals.total_rows as bigint) as observed_records
    from (
        select distinct cast({{ column }} as {{ string_type() }}) as metric_category
        from {{ all_rows }}
        where {{ column }} is not null
    ) as seen
    cross join (select count(*) as total_rows from {{ cte }}) as totals
    left join (
        select cast({{ column }} as {{ string_type() }}) as metric_category, count(*) as value_rows
        from {{ cte }}
        where {{ column }} is not null
        group by 1
    ) as counted
        on seen.metric_category = counted.metric_category
{%- endmacro %}
