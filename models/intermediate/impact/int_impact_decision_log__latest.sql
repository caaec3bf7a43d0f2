{#- policy.decision_log reduced to the latest row per decision_id (a rerun with changed inputs appends a newer row
    for the same decision), for every decision date in the log; rows without a customer_id are dropped. Empty
    before the policy has ever run (source_or_empty).

    Incremental, because the log grows by a row per customer per run: a decision_id belongs to one date
    (customer, as_of_date, policy_version), so only the dates that received log rows since the last build
    (decided_at later than the latest one here) are recomputed, from all of their log rows, and replace
    those dates' rows (delete+insert on decision_date; insert_overwrite of its partitions on Spark). The log is
    append-only and the policy stamps decided_at with its run's clock; rows added by other means with an older
    decided_at need `dbt build --full-refresh -s int_impact_decision_log__latest`. -#}
{{ config(
    materialized='incremental',
    unique_key='decision_date',
    incremental_strategy=replace_keys_strategy(),
    partition_by=replace_keys_partition('decision_date'),
    on_schema_change='fail',
) }}

with

{% if is_incremental() %}
{#- the log is read twice, each time for what that part needs (a CTE read twice is materialized whole by DuckDB:
    the history that an incremental build exists not to read) -#}
new_dates as (
    select distinct decision_log.as_of_date
    from {{ ref('stg_policy__decision_log') }} as decision_log
    where
        decision_log.customer_id is not null
        and decision_log.decided_at > (
            select coalesce(max(existing.decided_at), cast('1900-01-01' as timestamp)) from {{ this }} as existing
        )
),

scoped as (
    select decision_log.*
    from {{ ref('stg_policy__decision_log') }} as decision_log
    where
        decision_log.customer_id is not null
        and decision_log.as_of_date in (select new_dates.as_of_date from new_dates)
),
{% else %}
scoped as (
    select * from {{ ref('stg_policy__decision_log') }}
    where customer_id is not null
),
{% endif %}

ranked as (
    select
        scoped.*,
        row_number() over (
            partition by scoped.decision_id
            order by scoped.decided_at desc, scoped.decision_log_id desc
        ) as row_rank
    from scoped
),

final as (
    select
        cast(decision_id as {{ string_type() }}) as decision_id,
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(decision as {{ string_type() }}) as decision,
        cast(would_be_decision as {{ string_type() }}) as would_be_decision,
        cast(recommended_action as {{ string_type() }}) as recommended_action,
        cast(intervention_id as {{ string_type() }}) as intervention_id,
        cast(policy_version as {{ string_type() }}) as policy_version,
        cast(config_hash as {{ string_type() }}) as config_hash,
        cast(coalesce(is_holdout, false) as boolean) as is_holdout,
        cast(dq_gate as {{ string_type() }}) as dq_gate,
        cast(run_id as {{ string_type() }}) as run_id,
        cast(decided_at as timestamp) as decided_at,
        cast(as_of_date as date) as decision_date
    from ranked
    where row_rank = 1
)

select * from final
