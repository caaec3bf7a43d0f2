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

{#- The config of int_impact_first_decisions: on DuckDB incremental (delete+insert on group_key), with a post-hook
    that deletes the rows written for groups that no longer have a decision; on Spark a table rebuilt every run
    (replacing rows by group would mean a partition per group). -#}
{% macro first_decisions_config() %}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': 'group_key',
        'on_schema_change': 'fail',
        'post_hook': "delete from {{ this }} where decision_id is null",
    }) }}
{% endmacro %}

{#- The config of a daily history (kpi_overview, confidence_calibration, quality.dq_metrics,
    quality.dq_schema_snapshots): incremental by as_of_date, a run adds its date's rows and a rerun of the date
    replaces them; a column added later is appended to the history table. -#}
{% macro daily_history_config() %}
    {{ return({
        'materialized': 'incremental',
        'unique_key': 'as_of_date',
        'incremental_strategy': replace_keys_strategy(),
        'partition_by': replace_keys_partition('as_of_date'),
        'on_schema_change': 'append_new_columns',
    }) }}
{% endmacro %}
