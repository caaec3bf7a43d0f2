{#- One row per experiment unit: a customer in the treated or control arm of one of the two comparisons, with
    the risk score at the unit's baseline date and at its follow-up date (marts.customer_risk_history).

    randomized (policy holdout): the unit is a customer's FIRST decision (earliest decision_date, up to
    as_of_date) in policy.decision_log whose would_be_decision is 'act' and whose decision is 'act' (arm
    treated: the policy acted) or 'holdout' (arm control: the hash put the customer in the holdout, so nothing
    was done), read from the first decisions of each group (int_impact_first_decisions). Intention
    to treat: an act decision counts as treated whatever its approval status. Baseline = the risk score on the
    decision date; follow-up = the latest score after it and at most outcome_window_days later.

    observational (historical feed data, no randomization): a study window from the baseline date (the latest
    history date at least outcome_window_days before the latest one, else the earliest) to the follow-up date
    (the latest history date on or before as_of_date). Treated = customers whose first intervention of any
    origin was a feed intervention generated inside the window; control (baseline customers) = customers with
    no intervention at all up to the follow-up date. Both are matched on stratum = segment x risk band at the
    baseline date (exact stratification, see marts.treatment_effects). Customers treated before the window, or
    first treated by the policy, are not units. -#}
{%- set followup_limit = dbt.dateadd('day', 'parameters.outcome_window_days', 'randomized_units.baseline_date') %}
{%- set baseline_limit = dbt.dateadd('day', '-parameters.outcome_window_days', 'window_end.followup_date') %}
with

first_decisions as (
    select * from {{ ref('int_impact_first_decisions') }}
),

risk_history as (
    select * from {{ ref('customer_risk_history') }}
),

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

known_history as (
    select risk_history.*
    from risk_history
    cross join as_of
    where risk_history.as_of_date <= as_of.as_of_date
),

-- randomized ------------------------------------------------------------------------------------------------

eligible_decisions as (
    select
        first_decisions.*,
        row_number() over (
            partition by first_decisions.customer_id
            order by first_decisions.decision_date, first_decisions.decision_id
        ) as decision_rank
    from first_decisions
    cross join as_of
    where
        first_decisions.is_eligible
        and first_decisions.decision_date <= as_of.as_of_date
),

randomized_units as (
    select
        customer_id,
        decision_id,
        policy_version,
        recommended_action,
        decision_date as baseline_date,
        case when decision = 'act' then 'treated' else 'control' end as arm,
        case when decision = 'act' then intervention_id end as intervention_id
    from eligible_decisions
    where decision_rank = 1
),

randomized_followups as (
    select
        randomized_units.customer_id,
        max(known_history.as_of_date) as followup_date
    from randomized_units
    cross join parameters
    inner join known_history
        on randomized_units.customer_id = known_history.customer_id
        and randomized_units.baseline_date < known_history.as_of_date
        and {{ followup_limit }} >= known_history.as_of_date
    group by randomized_units.customer_id
),

randomized as (
    select
        'randomized' as method,
        randomized_units.customer_id,
        randomized_units.arm,
        randomized_units.decision_id,
        randomized_units.intervention_id,
        randomized_units.policy_version,
        randomized_units.recommended_action,
        randomized_units.baseline_date,
        randomized_followups.followup_date
    from randomized_units
    left join randomized_followups
        on randomized_units.customer_id = randomized_followups.customer_id
),

-- observational ---------------------------------------------------------------------------------------------

history_dates as (
    select distinct as_of_date from known_history
),

window_end as (
    select max(as_of_date) as followup_date from history_dates
),

study_window as (
    select
        coalesce(
            max(case
                when history_dates.as_of_date <= {{ baseline_limit }}
                    then history_dates.as_of_date
            end),
            min(history_dates.as_of_date)
        ) as baseline_date,
        window_end.followup_date
    from history_dates
    cross join window_end
    cross join parameters
    group by window_end.followup_date
),

first_interventions as (
    select
        intervention_outcomes.*,
        row_number() over (
            partition by intervention_outcomes.customer_id
            order by intervention_outcomes.generated_at, intervention_outcomes.intervention_id
        ) as intervention_rank
    from intervention_outcomes
    cross join study_window
    where intervention_outcomes.generated_at <= study_window.followup_date
),

observational_candidates as (
    select
        customers.customer_id,
        first_interventions.intervention_id,
        first_interventions.recommended_action,
        first_interventions.generated_at as first_intervention_at,
        first_interventions.origin as first_intervention_origin,
        study_window.baseline_date,
        study_window.followup_date
    from customers
    cross join study_window
    left join first_interventions
        on customers.customer_id = first_interventions.customer_id
        and first_interventions.intervention_rank = 1
    where study_window.baseline_date < study_window.followup_date
),

observational as (
    select
        'observational' as method,
        customer_id,
        case when intervention_id is null then 'control' else 'treated' end as arm,
        cast(null as {{ string_type() }}) as decision_id,
        intervention_id,
        cast(null as {{ string_type() }}) as policy_version,
        recommended_action,
        baseline_date,
        followup_date
    from observational_candidates
    where
        intervention_id is null
        or (
            first_intervention_origin = 'feed'
            and first_intervention_at > baseline_date
        )
),

-- both ------------------------------------------------------------------------------------------------------

units as (
    select * from randomized
    union all
    select * from observational
),

scored_units as (
    select
        units.method,
        units.customer_id,
        units.arm,
        units.decision_id,
        units.intervention_id,
        units.policy_version,
        units.recommended_action,
        units.baseline_date,
        baseline_scores.risk_score as baseline_risk_score,
        baseline_scores.risk_band as baseline_risk_band,
        units.followup_date,
        followup_scores.risk_score as followup_risk_score,
        coalesce(customers.segment, 'unknown') as segment,
        case
            when units.method = 'observational'
                then coalesce(customers.segment, 'unknown') || '|' || coalesce(baseline_scores.risk_band, 'unscored')
            else 'all'
        end as stratum
    from units
    left join customers
        on units.customer_id = customers.customer_id
    left join known_history as baseline_scores
        on units.customer_id = baseline_scores.customer_id
        and units.baseline_date = baseline_scores.as_of_date
    left join known_history as followup_scores
        on units.customer_id = followup_scores.customer_id
        and units.followup_date = followup_scores.as_of_date
),

final as (
    select
        method,
        customer_id,
        arm,
        decision_id,
        intervention_id,
        policy_version,
        recommended_action,
        segment,
        stratum,
        baseline_date,
        baseline_risk_score,
        baseline_risk_band,
        followup_date,
        followup_risk_score
    from scored_units
)

select * from final
