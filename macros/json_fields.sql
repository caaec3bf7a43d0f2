{#- Engine-specific access to the fields of a JSON record. Every staging model reads fields through these,
    so another engine only needs its own implementation here (adapter.dispatch).

    A record is parsed once: json_parse_fields turns it into one value holding each wanted field as a JSON
    value (json_parsed_field picks one out); the json_value_* macros then look at that small value only.
    Parsing the whole record once per field and per question (type, text) cost most of staging's time. -#}

{#- The JSON type of the record itself ('OBJECT' for a well-formed record). -#}
{% macro json_record_type(record) -%}
    {{ return(adapter.dispatch('json_record_type', 'customer_journey')(record)) }}
{%- endmacro %}

{% macro duckdb__json_record_type(record) -%}
    json_type({{ record }})
{%- endmacro %}

{#- The top-level keys of a record, in order, a repeated key as often as it appears (null or empty when the record
    is not an object). Computed once per record: staging looks for a repeated key in it (json_repeated_key). -#}
{% macro json_record_keys(record) -%}
    {{ return(adapter.dispatch('json_record_keys', 'customer_journey')(record)) }}
{%- endmacro %}

{% macro duckdb__json_record_keys(record) -%}
    json_keys({{ record }})
{%- endmacro %}

{#- The first key of `keys` (json_record_keys) seen before at a lower position; null when no key repeats. Such a
    record is ambiguous: JSON readers disagree on which value counts. The lambda runs only for the rare record
    with a repeat (the length test is cheap). -#}
{% macro json_repeated_key(keys) -%}
    {{ return(adapter.dispatch('json_repeated_key', 'customer_journey')(keys)) }}
{%- endmacro %}

{% macro duckdb__json_repeated_key(keys) -%}
    case
        when len({{ keys }}) <> len(list_distinct({{ keys }}))
            then list_filter({{ keys }}, (name, i) -> list_position({{ keys }}, name) < i)[1]
    end
{%- endmacro %}

{#- The record parsed once into a value holding each of `fields` (a list of names) as JSON
    (SQL null when the field is absent or the record is not an object). -#}
{% macro json_parse_fields(record, fields) -%}
    {{ return(adapter.dispatch('json_parse_fields', 'customer_journey')(record, fields)) }}
{%- endmacro %}

{% macro duckdb__json_parse_fields(record, fields) -%}
    json_transform({{ record }}, '{ {%- for name in fields -%} "{{ name }}": "JSON"{{ ", " if not loop.last }}{%- endfor -%} }')
{%- endmacro %}

{#- One field of json_parse_fields' result, as a JSON value. -#}
{% macro json_parsed_field(parsed, field) -%}
    {{ return(adapter.dispatch('json_parsed_field', 'customer_journey')(parsed, field)) }}
{%- endmacro %}

{% macro duckdb__json_parsed_field(parsed, field) -%}
    struct_extract({{ parsed }}, '{{ field }}')
{%- endmacro %}

{#- The JSON type of a value: 'NULL', 'BOOLEAN', 'BIGINT', 'UBIGINT', 'DOUBLE', 'VARCHAR', 'ARRAY', 'OBJECT';
    SQL null when the value is (an absent field). -#}
{% macro json_value_type(value) -%}
    {{ return(adapter.dispatch('json_value_type', 'customer_journey')(value)) }}
{%- endmacro %}

{% macro duckdb__json_value_type(value) -%}
    json_type({{ value }})
{%- endmacro %}

{#- A JSON value as text (strings unquoted, numbers and booleans as written). -#}
{% macro json_value_text(value) -%}
    {{ return(adapter.dispatch('json_value_text', 'customer_journey')(value)) }}
{%- endmacro %}

{% macro duckdb__json_value_text(value) -%}
    ({{ value }} ->> '$')
{%- endmacro %}

{#- A JSON array of strings as a list of trimmed strings. -#}
{% macro json_value_string_list(value) -%}
    {{ return(adapter.dispatch('json_value_string_list', 'customer_journey')(value)) }}
{%- endmacro %}

{% macro duckdb__json_value_string_list(value) -%}
    list_transform(from_json({{ value }}, '["VARCHAR"]'), item -> trim(item))
{%- endmacro %}

{#- True when every element of a JSON array value is a string. -#}
{% macro json_value_is_string_array(value) -%}
    {{ return(adapter.dispatch('json_value_is_string_array', 'customer_journey')(value)) }}
{%- endmacro %}

{% macro duckdb__json_value_is_string_array(value) -%}
    coalesce(list_bool_and(list_transform(json_extract({{ value }}, '$[*]'), item -> json_type(item) = 'VARCHAR')), true)
{%- endmacro %}

{#- One row per record of a feed file: the record (JSON text) and the file it came from.
    A file whose top level is an array yields one row per element. -#}
{% macro feed_records(feed) -%}
    {{ return(adapter.dispatch('feed_records', 'customer_journey')(feed)) }}
{%- endmacro %}

{% macro duckdb__feed_records(feed) -%}
    {#- read_json_objects(format='auto') returns a BOM-prefixed JSON array as one value: unnest it here. -#}
    select
        unnest(
            case when json_type(json) = 'ARRAY' then json_extract(json, '$[*]') else [json] end
        )::varchar as record,
        filename as loaded_from
    from {{ source('feeds', feed) }}
{%- endmacro %}

{#- A JSON object (text) built from columns of the same names, in that order (a record rebuilt from its
    typed values: strings trimmed, enums lowercased, numbers as typed). -#}
{% macro json_from_values(columns) -%}
    {{ return(adapter.dispatch('json_from_values', 'customer_journey')(columns)) }}
{%- endmacro %}

{% macro duckdb__json_from_values(columns) -%}
    cast(to_json(struct_pack(
        {%- for column in columns %}{{ column }} := {{ column }}{{ ", " if not loop.last }}{% endfor -%}
    )) as varchar)
{%- endmacro %}
