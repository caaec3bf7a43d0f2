{#- Spark implementations of the JSON access macros (macros/json_fields.sql) and of feed reading
    (macros/feeds.sql). Spark 4's VARIANT type keeps each JSON value's type, so the staging checks
    (a string where a number is required, 3.5 where an integer is required, ...) work as on DuckDB.
    The JSON type names are mapped to DuckDB's ('VARCHAR', 'BIGINT', 'DOUBLE', ...): the staging macros
    and the reject details (e.g. 'expected a number, got varchar "12000"') use those names. -#}

{% macro spark__json_record_type(record) -%}
    {{ spark__json_value_type('try_parse_json(' ~ record ~ ')') }}
{%- endmacro %}

{#- The record parsed once, as a VARIANT (null when the text is not JSON). -#}
{% macro spark__json_parse_fields(record, fields) -%}
    try_parse_json({{ record }})
{%- endmacro %}

{#- A field as a VARIANT: SQL null when absent, a variant null for a JSON null. -#}
{% macro spark__json_parsed_field(parsed, field) -%}
    try_variant_get({{ parsed }}, '$.{{ field }}')
{%- endmacro %}

{#- JSON numbers: integers that fit a long are BIGINT; other numbers are DECIMAL(p, s) or DOUBLE in a variant,
    which DuckDB calls DOUBLE (1.0 and 3.5 alike). -#}
{% macro spark__json_value_type(value) -%}
    case
        when {{ value }} is null then null
        when is_variant_null({{ value }}) then 'NULL'
        else case regexp_extract(schema_of_variant({{ value }}), '^[A-Z]+', 0)
            when 'STRING' then 'VARCHAR'
            when 'BOOLEAN' then 'BOOLEAN'
            when 'BIGINT' then 'BIGINT'
            when 'INT' then 'BIGINT'
            when 'SMALLINT' then 'BIGINT'
            when 'TINYINT' then 'BIGINT'
            when 'DECIMAL' then 'DOUBLE'
            when 'DOUBLE' then 'DOUBLE'
            when 'FLOAT' then 'DOUBLE'
            when 'ARRAY' then 'ARRAY'
            when 'OBJECT' then 'OBJECT'
            else schema_of_variant({{ value }})
        end
    end
{%- endmacro %}

{% macro spark__json_value_text(value) -%}
    variant_get({{ value }}, '$', 'string')
{%- endmacro %}

{% macro spark__json_value_string_list(value) -%}
    transform(variant_get({{ value }}, '$', 'array<string>'), item -> trim(item))
{%- endmacro %}

{% macro spark__json_value_is_string_array(value) -%}
    coalesce(forall(variant_get({{ value }}, '$', 'array<variant>'), item -> schema_of_variant(item) = 'STRING'), true)
{%- endmacro %}

{#- Each file is read whole (binaryFile: no schema inference, no _corrupt_record rows), a BOM is dropped; a file
    that starts with '[' is a JSON array (each element's JSON text via from_json), else NDJSON (one record per
    non-blank line). Malformed files are stopped earlier, in check_feeds (spark__check_feed_syntax). -#}
{% macro spark__feed_records(feed) -%}
    {%- set relation = source('feeds', feed) -%}
    {%- if '__dbt__cte__' in (relation | string) -%}
    {#- a unit test's fixture rows (json, filename) stand in for the files -#}
    select
        record,
        filename as loaded_from
    from {{ relation }} as fixture
    lateral view explode(
        case when json rlike '^\\s*\\[' then from_json(json, 'array<string>') else array(json) end
    ) records as record
    {%- else %}
    select
        record,
        loaded_from
    from {{ spark_feed_files(feed) }} as files
    lateral view explode(
        case
            when body rlike '^\\s*\\[' then from_json(body, 'array<string>')
            else filter(
                transform(split(body, '\n'), line -> regexp_replace(line, '^\\s+|\\s+$', '')),
                line -> line <> ''
            )
        end
    ) records as record
    {%- endif %}
{%- endmacro %}

{#- One row per file of a feed: loaded_from (the path as DuckDB reports it, without 'file:') and body (text). -#}
{% macro spark_feed_files(feed) -%}
    (
        select
            regexp_replace(path, '^file:', '') as loaded_from,
            regexp_replace(decode(content, 'UTF-8'), '^\\x{FEFF}', '') as body
        from binaryFile.`{{ feed_path(feed) | replace('`', '``') }}`
    )
{%- endmacro %}

{% macro spark__json_from_values(columns) -%}
    to_json(named_struct(
        {%- for column in columns %}'{{ column }}', {{ column }}{{ ", " if not loop.last }}{% endfor -%}
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}

{% macro spark__parse_iso_date(text) -%}
    coalesce(
        try_to_date({{ text }}, 'yyyy-MM-dd'),
        cast(try_cast({{ text }} as timestamp) as date)
    )
{%- endmacro %}

{#- on-run-start on Spark: as default__check_feeds (macros/feeds.sql), stop before any model runs when a feed is
    missing or cannot be parsed. A feed path that matches no file fails in Spark itself (PATH_NOT_FOUND, naming
    the path). Spark would otherwise turn malformed JSON into null / _corrupt_record rows without an error. -#}
{% macro spark__check_feeds() %}
    {% if execute and flags.WHICH in ('build', 'run', 'seed') %}
        {% set queries = [] %}
        {% for feed in journey_feeds() %}
            {% do queries.append(spark_feed_syntax_sql(feed)) %}
        {% endfor %}
        {% set problems = run_query(queries | join(" union all ")) %}
        {% set found = {} %}
        {% for row in problems.rows %}
            {% do found.update({row[0]: found.get(row[0], 0) + row[1]}) %}
        {% endfor %}
        {% for feed in journey_feeds() if found.get(feed, 0) == 0 %}
            {{ exceptions.raise_compiler_error(
                "Feed '" ~ feed ~ "' is missing: no file matches " ~ feed_path(feed) ~ " in input folder '"
                ~ journey_setting('input_dir') ~ "'. Every run needs customers, journey_state_log, signals, interventions and"
                ~ " outcomes (.json)."
            ) }}
        {% endfor %}
        {% if flags.WHICH in ('build', 'run') and journey_setting('check_feed_syntax') | string | lower == 'true' %}
            {% for row in problems.rows if row[3] is not none %}
                {{ exceptions.raise_compiler_error(
                    "Feed '" ~ row[0] ~ "' file " ~ row[2] ~ " " ~ row[3]
                ) }}
            {% endfor %}
        {% endif %}
    {% endif %}
    select 1
{% endmacro %}

{#- (feed, files, file, problem) per file of a feed; problem is null for a file that parses. -#}
{% macro spark_feed_syntax_sql(feed) -%}
    select
        '{{ feed }}' as feed,
        1 as files,
        loaded_from,
        case
            when body rlike '^\\s*\\[' and from_json(body, 'array<string>') is null and not body rlike '\\]\\s*$'
                then 'is truncated or malformed: it starts a JSON array with ''['' but does not end with '']''.'
            when body rlike '^\\s*\\[' and from_json(body, 'array<string>') is null
                then 'is not valid JSON (Malformed JSON in the array).'
            when not body rlike '^\\s*\\[' and bad_line > 0
                then 'is not valid JSON (Malformed JSON at line ' || bad_line || ' of the NDJSON file).'
        end as problem
    from (
        select
            loaded_from,
            body,
            case when body rlike '^\\s*\\[' then 0 else array_position(
                transform(split(body, '\n'), line -> regexp_replace(line, '^\\s+|\\s+$', '') <> '' and try_parse_json(line) is null), true
            ) end as bad_line
        from {{ spark_feed_files(feed) }}
    ) as files
{%- endmacro %}

{#- DuckDB-only helpers of default__check_feeds; Spark checks feeds with spark_feed_syntax_sql instead. -#}
{% macro spark__read_feed(feed) -%}
    {{ exceptions.raise_compiler_error("read_feed is DuckDB-only; on Spark use spark_feed_files") }}
{%- endmacro %}

{% macro spark__feed_ends_sql(feed) -%}
    {{ exceptions.raise_compiler_error("feed_ends_sql is DuckDB-only; on Spark use spark_feed_syntax_sql") }}
{%- endmacro %}

{#- Spark: the record's top-level keys in order (json_object_keys keeps a repeated key, as DuckDB's json_keys
    does) and the first one seen before at a lower position. -#}
{% macro spark__json_record_keys(record) -%}
    json_object_keys({{ record }})
{%- endmacro %}

{% macro spark__json_repeated_key(keys) -%}
    case
        when size({{ keys }}) <> size(array_distinct({{ keys }}))
            then try_element_at(filter({{ keys }}, (name, i) -> array_position({{ keys }}, name) < i + 1), 1)
    end
{%- endmacro %}
