{#- Engine-specific access to one field of a JSON record. Every staging model reads fields through these,
    so another engine only needs its own implementation here (adapter.dispatch). -#}

{#- The JSON type of a field: 'NULL', 'BOOLEAN', 'BIGINT', 'UBIGINT', 'DOUBLE', 'VARCHAR', 'ARRAY', 'OBJECT';
    SQL null when the field is absent. -#}
{% macro json_field_type(record, field) -%}
    {{ return(adapter.dispatch('json_field_type', 'customer_journey')(record, field)) }}
{%- endmacro %}

{% macro duckdb__json_field_type(record, field) -%}
    json_type({{ record }}, '$.{{ field }}')
{%- endmacro %}

{#- The field's value as text (strings unquoted, numbers and booleans as written). -#}
{% macro json_field_text(record, field) -%}
    {{ return(adapter.dispatch('json_field_text', 'customer_journey')(record, field)) }}
{%- endmacro %}

{% macro duckdb__json_field_text(record, field) -%}
    ({{ record }} ->> '$.{{ field }}')
{%- endmacro %}

{#- A JSON array of strings as a list of trimmed strings. -#}
{% macro json_field_string_list(record, field) -%}
    {{ return(adapter.dispatch('json_field_string_list', 'customer_journey')(record, field)) }}
{%- endmacro %}

{% macro duckdb__json_field_string_list(record, field) -%}
    list_transform(from_json({{ record }} -> '$.{{ field }}', '["VARCHAR"]'), item -> trim(item))
{%- endmacro %}

{#- True when every element of a JSON array field is a string. -#}
{% macro json_field_is_string_array(record, field) -%}
    {{ return(adapter.dispatch('json_field_is_string_array', 'customer_journey')(record, field)) }}
{%- endmacro %}

{% macro duckdb__json_field_is_string_array(record, field) -%}
    coalesce(list_bool_and(list_transform(json_extract({{ record }}, '$.{{ field }}[*]'), item -> json_type(item) = 'VARCHAR')), true)
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
