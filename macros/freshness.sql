{#- dbt source freshness measured against the run's business date, not the wall clock (DESIGN.md: nothing reads
    the wall clock for business logic): snapshotted_at is intermediate.int_as_of_date's as_of_date, so a rerun of
    an old day gives the same answer. Overrides dbt's default__collect_freshness_custom_sql (the sources set
    loaded_at_query, models/staging/_feeds__sources.yml); the query is dbt's own otherwise. -#}
{% macro default__collect_freshness_custom_sql(source, loaded_at_query) %}
    {% call statement('collect_freshness_custom_sql', fetch_result=True, auto_begin=False) -%}
    with source_query as (
        {{ loaded_at_query }}
    )

    select
        (select * from source_query) as max_loaded_at,
        (select cast(as_of_date as timestamp) from {{ built_model('int_as_of_date') }}) as snapshotted_at
    {%- endcall %}
    {{ return(load_result('collect_freshness_custom_sql')) }}
{% endmacro %}

{#- The relation a model of this project is built as, for the places ref() cannot be used (a source's
    loaded_at_query and the freshness query run without a model's dependencies). -#}
{% macro built_model(name) -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("built_model: no model named '" ~ name ~ "'") }}
    {%- endif -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}
