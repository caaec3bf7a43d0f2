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

{#- True when a double is a finite number (not NaN, not +/-Infinity, which a JSON number that overflows a double
    becomes); null stays null. -#}
{% macro is_finite_number(expression) -%}
    {{ return(adapter.dispatch('is_finite_number', 'customer_journey')(expression)) }}
{%- endmacro %}

{% macro default__is_finite_number(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}

{% macro spark__is_finite_number(expression) -%}
    (not isnan({{ expression }}) and abs({{ expression }}) < double('inf'))
{%- endmacro %}

{#- A condition that is true, or stops the query with `message` (a SQL text expression): how a model refuses
    config it cannot work with, with a sentence instead of a failed test's row count. -#}
{% macro assert_true(condition, message) -%}
    {{ return(adapter.dispatch('assert_true', 'customer_journey')(condition, message)) }}
{%- endmacro %}

{% macro default__assert_true(condition, message) -%}
    (case when {{ condition }} then true else cast(error({{ message }}) as boolean) end)
{%- endmacro %}

{% macro spark__assert_true(condition, message) -%}
    (case when {{ condition }} then true else cast(raise_error({{ message }}) as boolean) end)
{%- endmacro %}

{#- A column type declared in YAML (models/staging/_policy__sources.yml: DuckDB's spelling, `string` for text,
    `T[]` for a list, `struct(name type, ...)`) in the target's spelling: as declared on DuckDB; on Spark a list is
    array<T> and a struct struct<name:type, ...>. policy/spark_policy.py's spark_type does the same for the
    tables the Spark policy creates. -#}
{% macro column_type(data_type) -%}
    {{ return(adapter.dispatch('column_type', 'customer_journey')(data_type)) }}
{%- endmacro %}

{% macro default__column_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{% macro spark__column_type(data_type) -%}
    {%- set re = modules.re -%}
    {%- set spelled = re.sub('(\\w+)\\[\\]', 'array<\\1>', data_type | trim) -%}
    {%- if spelled.startswith('struct(') and spelled.endswith(')') -%}
        {%- set spelled = 'struct<' ~ re.sub('(\\w+)\\s+([\\w<>]+)', '\\1:\\2', spelled[7:-1]) ~ '>' -%}
    {%- endif -%}
    {{ return(spelled) }}
{%- endmacro %}
