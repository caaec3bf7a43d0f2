{#- One row per customer per as_of_date. Incremental: a run adds its as_of_date and replaces all the rows a
    previous run wrote for the same date (delete+insert on as_of_date, as insert_overwrite of its partition on
    Spark), so a customer gone from a redelivered day's feed leaves no row behind; other dates are kept. -#}
{{ config(
    materialized='incremental',
    unique_key='as_of_date',
    incremental_strategy=replace_keys_strategy(),
    partition_by=replace_keys_partition('as_of_date'),
    on_schema_change='fail',
) }}

with

risk_scores as (
    select * from {{ ref('customer_risk_scores') }}
),

final as (
    select * from risk_scores
)

select * from final
