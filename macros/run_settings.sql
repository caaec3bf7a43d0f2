{#- A run setting: the dbt var of that name when it is set (--vars or dbt_project.yml), else the environment
    variable JOURNEY_<NAME> when it is set and not empty, else the default below.

    Why both: dbt re-parses the whole project whenever --vars differ from the last parse (~8 s here), and a
    scheduled run changes input_dir and as_of_date every day. `journey run` passes them as environment
    variables instead; dbt's partial parsing then re-parses only the files that read a changed variable.

    check_feed_syntax ('true' or 'false'): before any model runs, parse every feed whole once to stop on a
    malformed file (macros/feeds.sql check_feeds), so that a plain `dbt build` on the serving database never
    replaces some feeds' tables and not others. `journey run` sets it to 'false': it builds in a working copy it
    discards on any failure, so the staging models' own parse (which names the file and line) is enough, and
    the 1M-customer feeds are not parsed twice (4.6 s). -#}
{% macro journey_setting(name) -%}
    {%- set defaults = {
        'input_dir': 'seeds',
        'as_of_date': none,
        'load_mode': 'full',
        'feed_file_pattern': '{feed}.json',
        'check_feed_syntax': 'true',
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
