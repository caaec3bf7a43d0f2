{#- The five input feeds, their business keys, and how they are read. -#}
{% macro journey_feeds() -%}
    {{ return({
        'customers': ['customer_id'],
        'journey_state_log': ['customer_id', 'state_entered_at'],
        'signals': ['signal_id'],
        'interventions': ['intervention_id'],
        'outcomes': ['outcome_id'],
    }) }}
{%- endmacro %}

{% macro feed_path(feed) -%}
    {{ return(var('input_dir') ~ '/' ~ feed ~ '.json') }}
{%- endmacro %}

{#- on-run-start: stop before any model runs when a feed is missing or cannot be parsed,
    so tables built by an earlier successful run stay as they were. -#}
{% macro check_feeds() %}
    {% if execute and flags.WHICH in ('build', 'run', 'seed') %}
        {% for feed in journey_feeds() %}
            {% set path = feed_path(feed) %}
            {% set found = run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] %}
            {% if found == 0 %}
                {{ exceptions.raise_compiler_error(
                    "Feed '" ~ feed ~ "' is missing: no file " ~ path ~ " in input folder '" ~ var('input_dir')
                    ~ "'. Every run needs customers, journey_state_log, signals, interventions and outcomes (.json)."
                ) }}
            {% endif %}
        {% endfor %}
        {% if flags.WHICH in ('build', 'run') and var('check_feed_syntax', true) %}
            {% for feed in journey_feeds() %}
                {#- DuckDB names the file, byte and line of a syntax error itself. -#}
                {% do run_query("select count(*) from " ~ read_feed(feed)) %}
                {#- ...but it accepts a JSON array cut off before its closing bracket: catch that here. -#}
                {% set ends = run_query(feed_ends_sql(feed)) %}
                {% for row in ends.rows if row[1] == '[' and row[2] != ']' %}
                    {{ exceptions.raise_compiler_error(
                        "Feed '" ~ feed ~ "' file " ~ row[0] ~ " is truncated or malformed: it starts a JSON array"
                        ~ " with '[' but does not end with ']'."
                    ) }}
                {% endfor %}
            {% endfor %}
        {% endif %}
    {% endif %}
    select 1
{% endmacro %}

{#- The table function that reads one feed: every record as a JSON object, with its file name.
    format='auto' accepts a JSON array or newline-delimited JSON. -#}
{% macro read_feed(feed) -%}
    {{ return(adapter.dispatch('read_feed', 'customer_journey')(feed)) }}
{%- endmacro %}

{% macro duckdb__read_feed(feed) -%}
    read_json_objects('{{ feed_path(feed) }}', format = 'auto', filename = true)
{%- endmacro %}

{#- First and last non-blank character of each file of a feed (file, first, last). -#}
{% macro feed_ends_sql(feed) -%}
    {{ return(adapter.dispatch('feed_ends_sql', 'customer_journey')(feed)) }}
{%- endmacro %}

{% macro duckdb__feed_ends_sql(feed) -%}
    select
        filename,
        left(ltrim(decode(content), chr(65279) || chr(32) || chr(9) || chr(10) || chr(13)), 1),
        right(rtrim(decode(content), chr(32) || chr(9) || chr(10) || chr(13)), 1)
    from read_blob('{{ feed_path(feed) }}')
{%- endmacro %}
