{#- A run setting: the dbt var of that name when it is set (--vars or dbt_project.yml), else the environment
    variable JOURNEY_<NAME> when it is set and not empty, else the default below.

    Why both: dbt re-parses the whole project whenever --vars differ from the last parse (~8 s here), and a
    scheduled run changes input_dir and as_of_date every day. `journey run` passes them as environment
    variables instead; dbt's partial parsing then re-parses only the files that read a changed variable. -#}
{% macro journey_setting(name) -%}
    {%- set defaults = {
        'input_dir': 'seeds',
        'as_of_date': none,
        'load_mode': 'full',
        'feed_file_pattern': '{feed}.json',
    } -%}
    {%- if name not in defaults -%}
        {{ exceptions.raise_compiler_error("unknown run setting '" ~ name ~ "'") }}
    {%- endif -%}
    {%- set from_var = var(name, none) -%}
    {%- if from_var is not none and from_var != '' -%}
        {{ return(from_var) }}
    {%- endif -%}
    {%- set from_env = env_var('JOURNEY_' ~ (name | upper), '') -%}
    {{ return(from_env if from_env != '' else defaults[name]) }}
{%- endmacro %}
