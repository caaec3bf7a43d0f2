{#- The five input feeds and their business keys: {feed: [key fields]}, from the var `feeds` (dbt_project.yml),
    the one declaration of the feed schema. -#}
{% macro journey_feeds() -%}
    {%- set keys = {} -%}
    {%- for feed, spec in var('feeds').items() -%}
        {%- do keys.update({feed: spec['key']}) -%}
    {%- endfor -%}
    {{ return(keys) }}
{%- endmacro %}

{#- The field specs of a feed, in the order their checks are reported (see stage_feed_records), from the var
    `feeds` (dbt_project.yml). -#}
{% macro feed_fields(feed) -%}
    {{ return(var('feeds')[feed]['fields']) }}
{%- endmacro %}

{#- The field names of a feed, in the declared order (var `feeds`): the columns a model takes from the feed
    (e.g. int_interventions__combined). -#}
{% macro feed_field_names(feed) -%}
    {{ return(feed_fields(feed) | map(attribute='name') | list) }}
{%- endmacro %}

{#- How this run loads the feeds (run setting `load_mode`): 'full' rebuilds the base models from exactly the files
    found now; 'append' adds this run's files to what earlier runs loaded (daily increments). -#}
{% macro load_mode() -%}
    {%- set mode = journey_setting('load_mode') -%}
    {%- if mode not in ('full', 'append') -%}
        {{ exceptions.raise_compiler_error("var load_mode must be 'full' or 'append', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}

{#- The file (or DuckDB glob) a feed is read from: input_dir / feed_file_pattern with {feed} replaced,
    e.g. '{feed}.json' (default) or 'day_*/{feed}.json' (every daily folder at once). -#}
{% macro feed_file_pattern(feed) -%}
    {{ return(journey_setting('feed_file_pattern') | replace('{feed}', feed)) }}
{%- endmacro %}

{% macro feed_path(feed) -%}
    {{ return(journey_setting('input_dir') ~ '/' ~ feed_file_pattern(feed)) }}
{%- endmacro %}

{#- on-run-start: stop before any model runs when a feed is missing or cannot be parsed,
    so tables built by an earlier successful run stay as they were. -#}
{#- on-run-start checks the feeds only when the command reads them: a selection without a model or test on the
    feeds source (`journey run`'s build downstream of the policy, `dbt build -s kpi_overview`, `dbt seed`)
    would pay the checks (3 s at 1M customers) for files it never opens. -#}
{% macro check_feeds() %}
    {% if execute and selection_reads_feeds() %}
        {{ return(adapter.dispatch('check_feeds', 'customer_journey')()) }}
    {% endif %}
    {{ return('select 1') }}
{% endmacro %}

{#- True when a selected node depends directly on a table of the `feeds` source. -#}
{% macro selection_reads_feeds() %}
    {% set found = namespace(value=false) %}
    {% for unique_id in selected_resources if not found.value %}
        {% set node = graph.nodes.get(unique_id) %}
        {% if node is not none %}
            {% for parent in node.depends_on.nodes if parent.startswith('source.') and parent.split('.')[2] == 'feeds' %}
                {% set found.value = true %}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return(found.value) }}
{% endmacro %}

{% macro default__check_feeds() %}
    {% if execute and flags.WHICH in ('build', 'run', 'seed') %}
        {% for feed in journey_feeds() %}
            {% set path = feed_path(feed) %}
            {% set found = run_query("select count(*) from glob(" ~ sql_string(path) ~ ")").columns[0].values()[0] %}
            {% if found == 0 %}
                {{ exceptions.raise_compiler_error(
                    "Feed '" ~ feed ~ "' is missing: no file matches " ~ path ~ " in input folder '" ~ journey_setting('input_dir')
                    ~ "'. Every run needs customers, journey_state_log, signals, interventions and outcomes (.json)."
                ) }}
            {% endif %}
        {% endfor %}
        {% if flags.WHICH in ('build', 'run') %}
            {% if journey_setting('check_feed_syntax') | string | lower == 'true' %}
                {#- DuckDB names the file, byte and line of a syntax error itself (all feeds in one query). -#}
                {% set counts = [] %}
                {% for feed in journey_feeds() %}
                    {% do counts.append("select count(*) from " ~ read_feed(feed)) %}
                {% endfor %}
                {% do run_query(counts | join(" union all ")) %}
            {% endif %}
            {#- ...but it accepts a JSON array cut off before its closing bracket: catch that here. -#}
            {% set ends_queries = [] %}
            {% for feed in journey_feeds() %}
                {% do ends_queries.append("select " ~ sql_string(feed) ~ " as feed, * from (" ~ feed_ends_sql(feed) ~ ")") %}
            {% endfor %}
            {% set ends = run_query(ends_queries | join(" union all ")) %}
            {% set empty = [] %}
            {% for row in ends.rows if row[2] == '' %}
                {% do empty.append("Feed '" ~ row[0] ~ "' file " ~ row[1]) %}
            {% endfor %}
            {% if empty %}
                {{ exceptions.raise_compiler_error(
                    empty | join(", ") ~ (" is" if empty | length == 1 else " are") ~ " empty (zero bytes or only"
                    ~ " blanks): a failed delivery? Deliver the file again; a feed with no records today is an"
                    ~ " empty JSON array []."
                ) }}
            {% endif %}
            {% for row in ends.rows if row[2] == '[' and row[3] != ']' %}
                {{ exceptions.raise_compiler_error(
                    "Feed '" ~ row[0] ~ "' file " ~ row[1] ~ " is truncated or malformed: it starts a JSON array"
                    ~ " with '[' but does not end with ']'."
                ) }}
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
    read_json_objects({{ sql_string(feed_path(feed)) }}, format = 'auto', filename = true)
{%- endmacro %}

{#- First and last non-blank character of each file of a feed (file, first, last): '[', ']', '{', '}'
    or '?' for any other character ('' for a blank file). -#}
{% macro feed_ends_sql(feed) -%}
    {{ return(adapter.dispatch('feed_ends_sql', 'customer_journey')(feed)) }}
{%- endmacro %}

{% macro duckdb__feed_ends_sql(feed) -%}
    {#- Looks at the first and last 4 KiB only, byte by byte (hex pairs), so a big file is neither decoded nor
        copied: a BOM and blanks (space, tab, CR, LF) are skipped. A file blank throughout those 4 KiB is
        looked at whole.
        read_blob cannot hold a file of 4 GiB or more (DuckDB: "exceeds maximum allowed file"), so files
        above 2 GiB (var feed_blob_limit_bytes, for tests) are not read here: they must be newline-delimited JSON, whose truncation DuckDB's own
        parse reports (only a JSON array cut before its ']' goes unnoticed), and that is checked instead. -#}
    {%- set blank = "(20|09|0A|0D)" -%}
    {%- set small = [] -%}
    {%- if execute -%}
        {%- set sizes = run_query("select filename, size from read_blob(" ~ sql_string(feed_path(feed)) ~ ") order by filename") -%}
        {%- for row in sizes.rows -%}
            {%- if row[1] > var('feed_blob_limit_bytes', 2147483648) -%}
                {%- do large_feed_file_is_ndjson(feed, row[0]) -%}
            {%- else -%}
                {%- do small.append(sql_string(row[0])) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif %}
    select
        filename,
        {{ feed_end_char("regexp_replace(hex(content[1:4096]), '^(EFBBBF|20|09|0A|0D)*', '')",
                         "regexp_replace(hex(content), '^(EFBBBF|20|09|0A|0D)*', '')", 'left') }},
        {{ feed_end_char("regexp_replace(hex(content[-4096:]), '" ~ blank ~ "*$', '')",
                         "regexp_replace(hex(content), '" ~ blank ~ "*$', '')", 'right') }}
    {% if small -%}
    from read_blob([{{ small | join(', ') }}])
    {%- else -%}
    from (select null::varchar as filename, null::blob as content) where false
    {%- endif %}
{%- endmacro %}

{#- A feed file too big for the byte-level check above must be newline-delimited JSON: its first line read as
    NDJSON must be a JSON object (a JSON array's first line is '[' or the whole array). -#}
{% macro large_feed_file_is_ndjson(feed, path) %}
    {%- set probe = run_query(
        "select coalesce(json_type(json) = 'OBJECT', false) from read_json_objects(" ~ sql_string(path)
        ~ ", format = 'newline_delimited', ignore_errors = true) limit 1"
    ) -%}
    {%- if probe.rows | length == 0 or not probe.rows[0][0] -%}
        {{ exceptions.raise_compiler_error(
            "Feed '" ~ feed ~ "' file " ~ path ~ " is over " ~ var('feed_blob_limit_bytes', 2147483648)
            ~ " bytes and is not newline-delimited JSON"
            ~ " (or starts with a byte-order mark): a JSON array this large cannot be checked for truncation."
            ~ " Write feeds this large as newline-delimited JSON, one record per line, or split the file."
        ) }}
    {%- endif -%}
{% endmacro %}

{% macro feed_end_char(window_hex, whole_hex, side) -%}
    case {{ side }}(
            case when {{ window_hex }} = '' and octet_length(content) > 4096 then {{ whole_hex }}
            else {{ window_hex }} end,
            2
        )
        when '' then ''
        when '5B' then '['
        when '5D' then ']'
        when '7B' then '{'
        when '7D' then '}'
        else '?'
    end
{%- endmacro %}
