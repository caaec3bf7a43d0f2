{#- The decision each customer got for the dates up to as_of_date: int_impact_decision_log__latest (the latest
    log row per decision_id, kept incrementally) filtered to this build's as_of_date. A view: a filter over that
    table, not another copy of a table that grows by a row per customer per run. -#}
{{ config(materialized='view') }}

with

latest as (
    select * from {{ ref('int_impact_decision_log__latest') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

final as (
    select
        latest.decision_id,
        latest.customer_id,
        latest.decision_date,
        latest.decision,
        latest.would_be_decision,
        latest.recommended_action,
        latest.intervention_id,
        latest.policy_version,
        latest.config_hash,
        latest.is_holdout,
        latest.dq_gate,
        latest.run_id,
        latest.decided_at
    from latest
    cross join as_of
    where latest.decision_date <= as_of.as_of_date
)

select * from final
