{#- Type names that differ between engines. DuckDB keeps its own spelling (varchar, varchar[]); Spark has no
    unsized varchar and spells lists array<...>. dbt.type_string() renders TEXT on Spark, which Spark rejects. -#}

{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'customer_journey')()) }}
{%- endmacro %}

{% macro default__string_type() -%}
    varchar
{%- endmacro %}

{% macro spark__string_type() -%}
    string
{%- endmacro %}

{#- A list of strings (policy.interventions.triggered_by_signals, signal id lists). -#}
{% macro string_list_type() -%}
    {{ return(adapter.dispatch('string_list_type', 'customer_journey')()) }}
{%- endmacro %}

{% macro default__string_list_type() -%}
    varchar[]
{%- endmacro %}

{% macro spark__string_list_type() -%}
    array<string>
{%- endmacro %}

{#- An empty list of strings. -#}
{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list', 'customer_journey')()) }}
{%- endmacro %}

{% macro default__empty_string_list() -%}
    cast([] as varchar[])
{%- endmacro %}

{% macro spark__empty_string_list() -%}
    cast(array() as array<string>)
{%- endmacro %}
