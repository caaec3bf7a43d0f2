{#-
    Staging of one feed, in one pass (stage_feed(feed) -> base_<feed>, one table written once per run):

    stage_feed_records(feed): every record read from this run's files, typed and checked on its own
      (record-level checks: missing_key, missing_field, wrong_type, out_of_range, unknown_value,
      unparseable_date).
    stage_feed(feed): then, in the same statement, every record's key-level verdict: the same key with different
      content rejects every copy (duplicate_key_conflict); exact duplicates (same key, same normalized content)
      are collapsed: copy_number 1 is staged, duplicate_count counts the copies. With load_mode 'append' a run
      parses only its own files and decides again only the key groups they touch, from all their loaded records
      (every day); a rerun of the same file replaces that file's records.

    The field specs are the var `feeds` (dbt_project.yml, read through feed_fields() in macros/feeds.sql), in the
    order their checks are reported:
      name      JSON field name (and output column name)
      kind      id | string | enum | number | integer | boolean | date | string_list
      required  true: a missing/null value rejects the record (missing_key for key fields, else missing_field)
      min, max  inclusive bounds for number/integer (out_of_range); every number must be finite (NaN,
                Infinity and numbers that overflow a double are wrong_type); every date must lie in the plausible
                window of seeds/ref_feed_parameters.csv (out_of_range)
      accepted  for enum: "<ref name>.<column>" holding the known values (unknown_value)
      lower     for string: lowercase the trimmed value (enums are always lowercased)
      cast_as   SQL type for number fields (default double)
-#}
{% macro stage_feed_records(feed) %}
{%- set keys = journey_feeds()[feed] -%}
{%- set fields = feed_fields(feed) -%}
{%- set has_dates = fields | selectattr('kind', 'equalto', 'date') | list | length > 0 -%}
{#- The CTEs that read this run's records, ending in new_records (stage_feed goes on from there). -#}
records as (
    {{ feed_records(feed) }}
),

{% if has_dates -%}
{#- the plausible window of every date (a record dated 9999-12-31 is out_of_range, not the run's as_of_date) -#}
date_window as (
    select
        max(case when parameter = 'earliest_plausible_date' then cast(value as date) end) as earliest_date,
        max(case when parameter = 'latest_plausible_date' then cast(value as date) end) as latest_date
    from {{ ref('ref_feed_parameters') }}
),
{%- endif %}

{#- each record is parsed once, into one JSON value per field -#}
parsed as (
    select
        record,
        loaded_from,
        {{ json_record_type('record') }} as record__json_type,
        {{ json_record_keys('record') }} as record__keys,
        {{ json_parse_fields('record', fields | map(attribute='name') | list) }} as fields
    from records
),

{#- text value and JSON type of each field -#}
extracted as (
    select
        record,
        loaded_from,
        fields,
        {%- for f in fields %}
        {{ json_value_type(json_parsed_field('fields', f.name)) }} as {{ f.name }}__json_type,
        trim({{ json_value_text(json_parsed_field('fields', f.name)) }}) as {{ f.name }}__text,
        {%- endfor %}
        record__json_type,
        {{ json_repeated_key('record__keys') }} as record__duplicate_field
    from parsed
),

typed as (
    select
        *,
        {%- for f in fields %}
        {{ typed_value(f) }} as {{ f.name }},
        {%- endfor %}
        {{ concat_key(keys) }} as record_key
    from extracted
    {%- if has_dates %}
    cross join date_window
    {%- endif %}
),

checked as (
    select
        *,
        {#- `is distinct from` in brackets: sqlfluff's parser takes its `from` in a select list for the FROM clause #}
        case
            when (record__json_type is distinct from 'OBJECT') then 'wrong_type'
            when record__duplicate_field is not null then 'duplicate_field'
            {%- for f in fields %}{{ field_checks(f, keys, 'reason') }}{%- endfor %}
        end as record_reason,
        md5(concat_ws('|'
            {%- for f in fields %}, coalesce(cast({{ f.name }} as {{ string_type() }}), '<null>'){%- endfor %}
        )) as record_hash
    from typed
),

{#- the words of the reason, for the rejected records only: the checks are not evaluated a second time for the
    records that passed them (most of them) -#}
explained as (
    select
        *,
        case when record_reason is not null then
            case
                when (record__json_type is distinct from 'OBJECT')
                    then 'record: expected a JSON object'
                when record__duplicate_field is not null
                    then record__duplicate_field || ': the field appears more than once in one JSON object'
                        || ' (which value is meant is ambiguous)'
                {%- for f in fields %}{{ field_checks(f, keys, 'detail') }}{%- endfor %}
            end
        end as record_detail
    from checked
),

new_records as (
    select
        {%- for f in fields %}
        {{ f.name }},
        {%- endfor %}
        record_reason,
        record_detail,
        record_key,
        record_hash,
        {#- only a rejected record's text is kept (quality.rejected_rows shows it): storing every record's
            text again cost more than the typed columns. A record rejected later for a key conflict is shown
            rebuilt from its typed values (stage_feed). -#}
        case when record_reason is not null then record end as raw_record,
        loaded_from,
        cast(current_timestamp as timestamp) as loaded_at
    from explained
)
{%- endmacro %}


{#- base_<feed>: one pass per feed. This run's records are read, typed and checked (stage_feed_records), then every
    record gets its key-level verdict in the same statement, and the table is written once. -#}
{% macro stage_feed(feed) %}
{%- set fields = feed_fields(feed) -%}
{%- set keys = journey_feeds()[feed] -%}

with

{{ stage_feed_records(feed) }},

{% if is_incremental() -%}
{%- if execute and 'reject_reason' not in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
    {{ exceptions.raise_compiler_error(
        this ~ " was built by a version before one-pass staging (it has no reject_reason): rebuild it once with"
        ~ " load_mode 'full' over every day's files (feed_file_pattern 'day_*/{feed}.json'), then append again"
        ~ " (CHANGELOG)") }}
{%- endif -%}
{#- Append mode: only the key groups that received records in this run's files are decided again, from all their
    loaded records (every day), and replace their rows (delete+insert on key_group). A rerun of a file replaces its
    records: the groups its earlier load held are decided again without them, and feed_model_post_hook drops what
    is left of that load (groups the file no longer holds). The record-level verdict of an earlier record is read
    back from its row: a duplicate_key_conflict is only ever given to a record that passed the record checks (and
    kept no text), so its record-level reason is null. -#}
loaded_earlier as (
    select
        {%- for f in fields %}
        {{ f.name }},
        {%- endfor %}
        case when reject_reason <> 'duplicate_key_conflict' then reject_reason end as record_reason,
        case when reject_reason <> 'duplicate_key_conflict' then reject_detail end as record_detail,
        record_key,
        record_hash,
        case when reject_reason <> 'duplicate_key_conflict' then raw_record end as raw_record,
        loaded_from,
        loaded_at
    from {{ this }}
),

affected as (
    select coalesce(record_key, '') as key_group from new_records
    union
    select key_group from {{ this }}
    where loaded_from in (select loaded_from from new_records)
),

base as (
    select * from new_records
    union all
    select * from loaded_earlier
    where
        coalesce(record_key, '') in (select key_group from affected)
        and loaded_from not in (select loaded_from from new_records)
),
{%- else -%}
base as (
    select * from new_records
),
{%- endif %}

{#- One window, ordered by content hash within (key, staged or not): the whole partition gives the key's
    copies and whether their contents differ; the peers of a row (same hash) are its exact duplicates, and
    row_number - rank + 1 numbers them. Which of several identical copies is number 1 is not specified: their
    typed values are the same. One sort instead of three made this step 2-3x faster at 1M customers.
    It runs over every loaded record of the groups it decides (all days in append mode), so a key repeated across
    days is seen. -#}
keyed as (
    {{ feed_keyed_sql() }}
),

final as (
    select
        {%- for f in fields %}
        {{ f.name }},
        {%- endfor %}
        case when is_key_conflict then 'duplicate_key_conflict' else record_reason end as reject_reason,
        case
            when is_key_conflict
                then '{{ keys | join(" + ") }} ' || record_key || ' appears '
                    || key_copies || ' times with different content'
            else record_detail
        end as reject_detail,
        record_key,
        record_hash,
        copy_number,
        duplicate_count,
        case
            when is_key_conflict
                then {{ json_from_values(fields | map(attribute='name') | list) }}
            else raw_record
        end as raw_record,
        loaded_from,
        loaded_at,
        coalesce(record_key, '') as key_group
    from keyed
)

select * from final
{% endmacro %}


{#- The config of base_<feed> (with the post-hook feed_model_post_hook): on DuckDB incremental in load_mode 'append'
    (delete+insert on key_group), rebuilt in load_mode 'full'; on Spark a table, in load_mode 'full' only
    (replacing rows by key would mean a partition per key; docs/spark.md). -#}
{% macro feed_model_config() %}
    {%- if target.type == 'spark' -%}
        {%- if load_mode() != 'full' -%}
            {{ exceptions.raise_compiler_error(
                "load_mode 'append' is not supported on Spark: run with load_mode 'full' and feed_file_pattern"
                ~ " 'day_*/{feed}.json' to read every day (docs/spark.md)") }}
        {%- endif -%}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'key_group',
        'full_refresh': (true if load_mode() == 'full' else none),
        'on_schema_change': 'fail',
        'post_hook': "{{ feed_model_post_hook() }}",
    }) }}
{% endmacro %}

{#- After an incremental build: drop what is left of an earlier load of a file this run read again (the key groups
    that file no longer holds; the groups it still holds were replaced). This run's records share one loaded_at,
    the latest. -#}
{% macro feed_model_post_hook() %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            loaded_at < (select max(loaded_at) from {{ this }})
            and loaded_from in (
                select loaded_from from {{ this }}
                where loaded_at = (select max(loaded_at) from {{ this }})
            )
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}


{#- The record key from the key fields' trimmed texts (the <field>__text columns of `extracted`). -#}
{%- macro concat_key(keys) -%}
    {%- if keys | length == 1 -%}
        {{ keys[0] }}__text
    {%- else -%}
        concat_ws('|' {%- for k in keys %}, {{ k }}__text{%- endfor %})
    {%- endif -%}
{%- endmacro -%}


{#- The typed value of a field; null when it is absent or of the wrong type (the checks report why). -#}
{%- macro typed_value(f) -%}
    {%- set text = f.name ~ '__text' -%}
    {%- set jt = f.name ~ '__json_type' -%}
    {%- if f.kind in ('id', 'string') -%}
        {%- set v = "case when " ~ jt ~ " = 'VARCHAR' then nullif(" ~ text ~ ", '') end" -%}
        {%- if f.get('lower') %}lower({{ v }}){% else %}{{ v }}{% endif -%}
    {%- elif f.kind == 'enum' -%}
        case when {{ jt }} = 'VARCHAR' then lower(nullif({{ text }}, '')) end
    {%- elif f.kind == 'number' -%}
        case when {{ jt }} in ('BIGINT', 'UBIGINT', 'DOUBLE')
            and {{ is_finite_number('try_cast(' ~ text ~ ' as double)') }}
            then try_cast({{ text }} as {{ f.get('cast_as', 'double') }}) end
    {%- elif f.kind == 'integer' -%}
        case when {{ jt }} in ('BIGINT', 'UBIGINT')
            or ({{ jt }} = 'DOUBLE' and try_cast({{ text }} as double) = floor(try_cast({{ text }} as double)))
            then try_cast(try_cast({{ text }} as double) as integer) end
    {%- elif f.kind == 'boolean' -%}
        case when {{ jt }} = 'BOOLEAN' then {{ text }} = 'true' end
    {%- elif f.kind == 'date' -%}
        case when {{ jt }} = 'VARCHAR' then {{ parse_date(text) }} end
    {%- elif f.kind == 'string_list' -%}
        case when {{ jt }} = 'ARRAY' and {{ json_value_is_string_array(json_parsed_field('fields', f.name)) }}
            then {{ json_value_string_list(json_parsed_field('fields', f.name)) }} end
    {%- endif -%}
{%- endmacro -%}


{#- ISO dates (YYYY-MM-DD), also with a time part; anything else is null. -#}
{%- macro parse_date(text) -%}
    {{ return(adapter.dispatch('parse_iso_date', 'customer_journey')(text)) }}
{%- endmacro -%}

{%- macro default__parse_iso_date(text) -%}
    coalesce(
        try_strptime({{ text }}, '%Y-%m-%d')::date,
        try_cast(try_cast({{ text }} as timestamp) as date)
    )
{%- endmacro -%}


{#- WHEN branches for one field: either the reason code or the human-readable detail. -#}
{%- macro field_checks(f, keys, what) -%}
    {%- set name = f.name -%}
    {%- set text = name ~ '__text' -%}
    {%- set jt = name ~ '__json_type' -%}
    {%- set is_key = name in keys -%}
    {%- set absent = "(" ~ jt ~ " is null or " ~ jt ~ " = 'NULL' or (" ~ jt ~ " = 'VARCHAR' and " ~ text ~ " = ''))" -%}
    {%- set shown = "coalesce('\"' || " ~ text ~ " || '\"', 'null')" -%}
    {%- set expected = {
        'id': 'a string', 'string': 'a string', 'enum': 'a string', 'number': 'a finite number',
        'integer': 'a whole number', 'boolean': 'true or false', 'date': 'a date string (YYYY-MM-DD)',
        'string_list': 'an array of strings'
    }[f.kind] -%}
    {%- if f.get('required') or is_key %}
            when {{ absent }} then
                {%- if what == 'reason' %} '{{ "missing_key" if is_key else "missing_field" }}'
                {%- else %} '{{ name }} is missing'{% endif %}
    {%- endif %}
            when not {{ absent }} and {{ name }} is null
                {%- if f.kind == 'date' %} and {{ jt }} <> 'VARCHAR'{% endif %} then
                {%- if what == 'reason' %} 'wrong_type'
                {%- else %} '{{ name }}: expected {{ expected }}, got ' || lower({{ jt }}) || ' ' || {{ shown }}{% endif %}
    {%- if f.kind == 'date' %}
            when not {{ absent }} and {{ name }} is null then
                {%- if what == 'reason' %} 'unparseable_date'
                {%- else %} '{{ name }}: ' || {{ shown }} || ' is not a date (YYYY-MM-DD)'{% endif %}
            when {{ name }} < earliest_date or {{ name }} > latest_date then
                {%- if what == 'reason' %} 'out_of_range'
                {%- else %} '{{ name }}: ' || cast({{ name }} as {{ string_type() }}) || ' is outside the plausible dates ['
                    || cast(earliest_date as {{ string_type() }}) || ', ' || cast(latest_date as {{ string_type() }})
                    || '] (seeds/ref_feed_parameters.csv)'{% endif %}
    {%- endif %}
    {%- if f.get('min') is not none or f.get('max') is not none %}
            when {{ name }} is not null and (
                {%- if f.get('min') is not none %} {{ name }} < {{ f.min }}{% endif %}
                {%- if f.get('min') is not none and f.get('max') is not none %} or{% endif %}
                {%- if f.get('max') is not none %} {{ name }} > {{ f.max }}{% endif %}
            ) then
                {%- if what == 'reason' %} 'out_of_range'
                {%- else %} '{{ name }}: ' || {{ text }} || ' {{ range_words(f) }}'{% endif %}
    {%- endif %}
    {%- if f.kind == 'enum' %}
        {%- set accepted_model, accepted_column = f.accepted.split('.') %}
            when {{ name }} is not null and {{ name }} not in (
                select {{ accepted_column }} from {{ ref(accepted_model) }}
            ) then
                {%- if what == 'reason' %} 'unknown_value'
                {%- else %} '{{ name }}: ' || {{ shown }} || ' is not a known value (see {{ accepted_model }})'{% endif %}
    {%- endif %}
{%- endmacro -%}


{%- macro range_words(f) -%}
    {%- if f.get('min') is not none and f.get('max') is not none -%}
        is outside [{{ f.min }}, {{ f.max }}]
    {%- elif f.get('min') is not none -%}
        is below the minimum {{ f.min }}
    {%- else -%}
        is above the maximum {{ f.max }}
    {%- endif -%}
{%- endmacro -%}


{#- The keyed CTE of stage_feed, over `base` (see the comment there). -#}
{%- macro feed_keyed_sql() -%}
    {{ return(adapter.dispatch('feed_keyed_sql', 'customer_journey')()) }}
{%- endmacro -%}

{%- macro default__feed_keyed_sql() -%}
select
    *,
    record_reason is null
    and min(record_hash) over by_key_valid <> max(record_hash) over by_key_valid as is_key_conflict,
    count(*) over by_key_valid as key_copies,
    row_number() over by_content - rank() over by_content + 1 as copy_number,
    count(*) over (by_content range between current row and current row) as duplicate_count
from base
window
    by_content as (partition by record_key, record_reason is null order by record_hash),
    by_key_valid as (by_content rows between unbounded preceding and unbounded following)
{%- endmacro -%}

{#- Spark: a frame cannot be added to a named window (by_content range ...); the same three windows are spelled
    out, the peers of a row being its (key, staged, hash) partition. -#}
{%- macro spark__feed_keyed_sql() -%}
select
    *,
    record_reason is null
    and min(record_hash) over by_key_valid <> max(record_hash) over by_key_valid as is_key_conflict,
    count(*) over by_key_valid as key_copies,
    row_number() over by_content - rank() over by_content + 1 as copy_number,
    count(*) over by_hash as duplicate_count
from base
window
    by_content as (partition by record_key, record_reason is null order by record_hash),
    by_key_valid as (partition by record_key, record_reason is null),
    by_hash as (partition by record_key, record_reason is null, record_hash)
{%- endmacro -%}
