{#- dbt-spark's listagg drops order_by_clause (with a warning), so a hash over an aggregated text would depend on
    row order. Spark 4 has listagg ... within group (order by ...): use it. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause and not limit_num -%}
        listagg({{ measure }}, {{ delimiter_text }}) within group ({{ order_by_clause }})
    {%- else -%}
        {{ return(dbt_spark_listagg_unordered(measure, delimiter_text, limit_num)) }}
    {%- endif -%}
{%- endmacro %}

{% macro dbt_spark_listagg_unordered(measure, delimiter_text, limit_num) -%}
    {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    {{ return('array_join(' ~ collected ~ ', ' ~ delimiter_text ~ ')') }}
{%- endmacro %}

{#- A SQL string literal holding `text` exactly. DuckDB (standard SQL) only doubles quotes; Spark also reads
    backslash escapes, so '\n' is a newline there: backslashes are doubled. -#}
{% macro sql_string(text) -%}
    {{ return(adapter.dispatch('sql_string', 'customer_journey')(text)) }}
{%- endmacro %}

{% macro default__sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
