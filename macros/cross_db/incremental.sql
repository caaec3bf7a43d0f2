{#- Incremental models that replace "the rows of this run's keys" (base_<feed> by loaded_from, customer_risk_history
    and kpi_overview by as_of_date). DuckDB: delete+insert on the unique_key. Spark (parquet tables, no delta on a
    plain session): insert_overwrite of the partitions this run writes, the table partitioned by the same column,
    which replaces exactly those keys' rows. On Databricks/delta, 'merge' would also do. -#}
{% macro replace_keys_strategy() -%}
    {{ return(adapter.dispatch('replace_keys_strategy', 'customer_journey')()) }}
{%- endmacro %}

{% macro default__replace_keys_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro spark__replace_keys_strategy() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}

{#- partition_by for those models: the replaced key column on Spark, none elsewhere. -#}
{% macro replace_keys_partition(column) -%}
    {{ return([column] if target.type == 'spark' else none) }}
{%- endmacro %}
