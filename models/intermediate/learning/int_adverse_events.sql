{#- One row per adverse event the feeds report, up to as_of_date: the event types of seeds/ref_adverse_events.csv
    that are counted, each found by its rule. stage_entered: a journey log row entering the stage rule_value (on
    state_entered_at); outcome_class: an outcome whose ref_outcome_types class is rule_value (on measured_at);
    churn_risk_rise: an outcome that recorded churn_risk_delta > 0 (on measured_at). An outcome's customer is its
    intervention's (feed or policy), else the outcome's own. Never the project's own risk score: the learning
    marts measure the score and the signals against these events, so the measure is not circular. -#}
with

adverse_event_types as (
    select * from {{ ref('ref_adverse_events') }}
    where is_counted
),

journey_log as (
    select * from {{ ref('int_journey_state_log__checked') }}
    where not is_orphan
),

outcomes as (
    select * from {{ ref('int_outcomes__checked') }}
    where not is_orphan
),

interventions as (
    select * from {{ ref('int_interventions__combined') }}
),

outcome_types as (
    select * from {{ ref('ref_outcome_types') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

stage_events as (
    select
        journey_log.customer_id,
        adverse_event_types.event_type,
        journey_log.state_entered_at as event_date,
        'journey_state_log' as source,
        journey_log.customer_id || '|' || cast(journey_log.state_entered_at as {{ string_type() }}) as record_key
    from journey_log
    inner join adverse_event_types
        on
        adverse_event_types.event_rule = 'stage_entered'
        and journey_log.journey_stage = adverse_event_types.rule_value
),

outcome_rows as (
    select
        outcomes.outcome_id,
        outcomes.measured_at,
        outcomes.churn_risk_delta,
        outcome_types.outcome_class,
        coalesce(interventions.customer_id, outcomes.customer_id) as customer_id
    from outcomes
    left join interventions
        on outcomes.intervention_id = interventions.intervention_id
    left join outcome_types
        on outcomes.outcome = outcome_types.outcome
),

outcome_events as (
    select
        outcome_rows.customer_id,
        adverse_event_types.event_type,
        outcome_rows.measured_at as event_date,
        'outcomes' as source,
        outcome_rows.outcome_id as record_key
    from outcome_rows
    inner join adverse_event_types
        on
        (
            adverse_event_types.event_rule = 'outcome_class'
            and outcome_rows.outcome_class = adverse_event_types.rule_value
        )
        or (
            adverse_event_types.event_rule = 'churn_risk_rise'
            and outcome_rows.churn_risk_delta > 0
        )
),

events as (
    select * from stage_events
    union all
    select * from outcome_events
),

final as (
    select
        cast(events.customer_id as {{ string_type() }}) as customer_id,
        cast(events.event_type as {{ string_type() }}) as event_type,
        cast(events.event_date as date) as event_date,
        cast(events.source as {{ string_type() }}) as source,
        cast(events.record_key as {{ string_type() }}) as record_key
    from events
    cross join as_of
    where
        events.customer_id is not null
        and events.event_date <= as_of.as_of_date
)

select * from final
