{#- The first decision (earliest decision_date, then decision_id) of each decision group: a customer's decisions
    with the same policy_version, config_hash, is_holdout and eligibility (would_be_decision 'act' and decision
    'act' or 'holdout': a unit of the randomized experiment), from int_impact_decision_log__latest.

    What the experiment reads from the decision history is a first: a customer's first eligible decision (the
    randomized unit) and whether a customer was ever evaluated in a holdout group under a config (the sample
    ratio check). Both are exact from this table filtered to decision_date <= as_of_date: the first decision of a
    group up to a date is the group's first decision if that is on or before the date, else there is none. So
    the impact models read a row per group (about one per customer) instead of the whole history, which grows
    by a row per customer per run.

    Incremental (delete+insert on group_key): a build folds in the decision dates that received rows since the
    last build (decided_at later than folded_decided_at) and writes the groups first seen on them. A group whose
    stored first decision is on or after the earliest rewritten date (a rerun or backfill of a day) is decided
    again from all its rows; a group none of whose rows is left is written as a row without decision_id and
    deleted by the post-hook. The other stored groups keep their rows (their first decision is earlier than
    every rewritten date). When a build writes no row, the watermark stays and the next build folds the same
    dates in again (finding nothing new in them). On Spark a table rebuilt every run. -#}
{{ config(**first_decisions_config()) }}

{#- the decisions of int_impact_decision_log__latest with their group, read where each part needs them (a CTE
    read twice is materialized whole by DuckDB, which is the history this model exists not to read) -#}
{%- set decisions -%}
select
    decision_id,
    customer_id,
    policy_version,
    config_hash,
    is_holdout,
    would_be_decision = 'act' and decision in ('act', 'holdout') as is_eligible,
    decision_date,
    decision,
    recommended_action,
    intervention_id,
    decided_at
from {{ ref('int_impact_decision_log__latest') }}
{%- endset %}

{%- set group_key -%}
concat_ws('|', customer_id, coalesce(policy_version, '<null>'), coalesce(config_hash, '<null>'),
    cast(is_holdout as {{ string_type() }}), cast(is_eligible as {{ string_type() }}))
{%- endset %}

{%- set keyed_decisions -%}
select
    decisions.*,
    {{ group_key }} as group_key
from ({{ decisions }}) as decisions
{%- endset %}

with

{% if is_incremental() %}
watermark as (
    select coalesce(max(folded_decided_at), cast('1900-01-01' as timestamp)) as folded_decided_at
    from {{ this }}
),

new_dates as (
    select distinct decisions.decision_date
    from ({{ decisions }}) as decisions
    where decisions.decided_at > (select watermark.folded_decided_at from watermark)
),

new_rows as (
    select keyed.*
    from ({{ keyed_decisions }}) as keyed
    where keyed.decision_date in (select new_dates.decision_date from new_dates)
),

-- stored groups whose first decision may have come from a rewritten date
stale_groups as (
    select
        stored.group_key,
        stored.customer_id
    from {{ this }} as stored
    where stored.decision_date >= (select min(new_dates.decision_date) from new_dates)
),

stale_rows as (
    select keyed.*
    from ({{ keyed_decisions }}) as keyed
    where keyed.customer_id in (select stale_groups.customer_id from stale_groups)
),

candidates as (
    {#- a group seen for the first time: its rows are all on the rewritten dates. A stored group that is not stale
        keeps its row: its first decision is earlier than every rewritten date, so a build of a new day writes
        only the new groups, not a row per customer. -#}
    select
        new_rows.group_key,
        new_rows.decision_id,
        new_rows.customer_id,
        new_rows.policy_version,
        new_rows.config_hash,
        new_rows.is_holdout,
        new_rows.is_eligible,
        new_rows.decision_date,
        new_rows.decision,
        new_rows.recommended_action,
        new_rows.intervention_id,
        new_rows.decided_at
    from new_rows
    where new_rows.group_key not in (select stored.group_key from {{ this }} as stored)
    -- a stale group is decided again from all its rows; one with none left gets a row without decision_id
    union all
    select
        stale_groups.group_key,
        stale_rows.decision_id,
        stale_groups.customer_id,
        stale_rows.policy_version,
        stale_rows.config_hash,
        stale_rows.is_holdout,
        stale_rows.is_eligible,
        stale_rows.decision_date,
        stale_rows.decision,
        stale_rows.recommended_action,
        stale_rows.intervention_id,
        stale_rows.decided_at
    from stale_groups
    left join stale_rows
        on stale_groups.group_key = stale_rows.group_key
),

folded_through as (
    select
        coalesce(
            max(new_rows.decided_at),
            (select watermark.folded_decided_at from watermark)
        ) as folded_decided_at
    from new_rows
),
{% else %}
candidates as (
    select keyed.*
    from ({{ keyed_decisions }}) as keyed
),

folded_through as (
    select max(candidates.decided_at) as folded_decided_at from candidates
),
{% endif %}

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by candidates.group_key
            order by candidates.decision_date, candidates.decision_id
        ) as group_rank
    from candidates
),

final as (
    select
        cast(ranked.group_key as {{ string_type() }}) as group_key,
        cast(ranked.customer_id as {{ string_type() }}) as customer_id,
        cast(ranked.policy_version as {{ string_type() }}) as policy_version,
        cast(ranked.config_hash as {{ string_type() }}) as config_hash,
        cast(ranked.is_holdout as boolean) as is_holdout,
        cast(ranked.is_eligible as boolean) as is_eligible,
        cast(ranked.decision_id as {{ string_type() }}) as decision_id,
        cast(ranked.decision_date as date) as decision_date,
        cast(ranked.decision as {{ string_type() }}) as decision,
        cast(ranked.recommended_action as {{ string_type() }}) as recommended_action,
        cast(ranked.intervention_id as {{ string_type() }}) as intervention_id,
        cast(folded_through.folded_decided_at as timestamp) as folded_decided_at
    from ranked
    cross join folded_through
    where ranked.group_rank = 1
)

select * from final
