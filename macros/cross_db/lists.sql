{#- List (array) columns: DuckDB list functions vs Spark array functions. -#}

{#- Aggregate: the sorted list of `expression` over the group's rows (only rows meeting `condition`, if given).
    No matching row gives null on DuckDB and an empty array on Spark: coalesce the result. -#}
{% macro sorted_list_agg(expression, condition=none) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'customer_journey')(expression, condition)) }}
{%- endmacro %}

{% macro default__sorted_list_agg(expression, condition=none) -%}
    list_sort(list({{ expression }}){% if condition %} filter (where {{ condition }}){% endif %})
{%- endmacro %}

{% macro spark__sorted_list_agg(expression, condition=none) -%}
    sort_array(collect_list(
        {%- if condition %}case when {{ condition }} then {{ expression }} end{% else %}{{ expression }}{% endif -%}
    ))
{%- endmacro %}

{#- One row per element of a list column (a set-returning expression in a select list). -#}
{% macro unnest_list(expression) -%}
    {{ return(adapter.dispatch('unnest_list', 'customer_journey')(expression)) }}
{%- endmacro %}

{% macro default__unnest_list(expression) -%}
    unnest({{ expression }})
{%- endmacro %}

{% macro spark__unnest_list(expression) -%}
    explode({{ expression }})
{%- endmacro %}

{#- True when `value` is one of the parts of `text` split on the literal `delimiter`. -#}
{% macro delimited_contains(text, delimiter, value) -%}
    {{ return(adapter.dispatch('delimited_contains', 'customer_journey')(text, delimiter, value)) }}
{%- endmacro %}

{% macro default__delimited_contains(text, delimiter, value) -%}
    list_contains(string_split({{ text }}, '{{ delimiter }}'), {{ value }})
{%- endmacro %}

{% macro spark__delimited_contains(text, delimiter, value) -%}
    {#- split takes a regex: quote the delimiter -#}
    array_contains(split({{ text }}, '\\Q{{ delimiter }}\\E'), {{ value }})
{%- endmacro %}
