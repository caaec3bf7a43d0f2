{#-
    source_or_empty(source_name, table_name): the source relation when it exists in the database, else an empty
    relation with the same columns and types, taken from the column data_types declared for the source in YAML
    (models/staging/_policy__sources.yml). Lets models read tables that the Python side writes later
    (policy.interventions) on a database where that step has never run.
    Use it as a relation: `select * from {{ source_or_empty('policy', 'interventions') }}`.
-#}
{% macro source_or_empty(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier,
    ) -%}
    {%- if existing is not none -%}
        {{ return(relation) }}
    {%- endif -%}
    {{ return(empty_source_relation(source_name, table_name)) }}
{% endmacro %}


{#- The declared columns of a source table (name, data_type, description), in their YAML order
    (models/staging/_policy__sources.yml, _ops__sources.yml), read from the graph. Empty while dbt parses (the
    graph is built after parsing; what a model renders then is not run). -#}
{% macro source_columns(source_name, table_name) %}
    {%- set matches = [] -%}
    {%- for node in (graph.get('sources') or {}).values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {%- do matches.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if matches | length != 1 -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "source '" ~ source_name ~ "." ~ table_name ~ "' is not declared"
            ) }}
        {%- endif -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(matches[0].columns.values() | list) }}
{% endmacro %}


{#- The names of a source table's declared columns, in order, less those in `exclude`: the select list of a
    staging model that passes the source's columns on (e.g. stg_policy__interventions). -#}
{% macro source_column_names(source_name, table_name, exclude=[]) %}
    {%- set names = [] -%}
    {%- for column in source_columns(source_name, table_name) if column.name not in exclude -%}
        {%- do names.append(column.name) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{#- An empty, typed relation with the declared columns of a source table (every column needs a data_type). -#}
{% macro empty_source_relation(source_name, table_name) %}
    {%- set columns = source_columns(source_name, table_name) -%}
    {%- for column in columns if not column.data_type -%}
        {{ exceptions.raise_compiler_error(
            "source_or_empty: column " ~ column.name ~ " of source " ~ source_name ~ "." ~ table_name
            ~ " needs a data_type so an empty relation can be built before the table exists"
        ) }}
    {%- endfor -%}
    {%- set empty -%}
    (
        select
            {%- for column in columns %}
            cast(null as {{ column_type(column.data_type) }}) as {{ column.name }}{{ "," if not loop.last }}
            {%- endfor %}
        where 1 = 0
    ) as {{ table_name }}
    {%- endset -%}
    {{ return(empty) }}
{% endmacro %}
