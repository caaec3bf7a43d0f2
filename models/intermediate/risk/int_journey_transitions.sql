{#- Every observed transition: each journey log row of a known customer, from the stage before it to the stage
    it entered, checked against the journey map (seeds/ref_journey_transitions.csv). The stage before is the
    feed's previous_stage, else the customer's prior log row, else 'start'. -#}
with

journey_log as (
    select * from {{ ref('int_journey_state_log__checked') }}
    where not is_orphan
),

transition_map as (
    select * from {{ ref('ref_journey_transitions') }}
),

ordered as (
    select
        customer_id,
        journey_stage as to_stage,
        state_entered_at as transitioned_at,
        days_in_state,
        coalesce(
            previous_stage,
            lag(journey_stage) over (partition by customer_id order by state_entered_at),
            'start'
        ) as from_stage,
        previous_stage is null as is_from_stage_inferred,
        row_number() over (partition by customer_id order by state_entered_at desc) as recency_rank
    from journey_log
),

checked as (
    select
        ordered.*,
        coalesce(exact_rule.rule, any_stage_rule.rule) as matched_rule
    from ordered
    left join transition_map as exact_rule
        on ordered.from_stage = exact_rule.from_stage
        and ordered.to_stage = exact_rule.to_stage
    left join transition_map as any_stage_rule
        on any_stage_rule.from_stage = '*'
        and ordered.to_stage = any_stage_rule.to_stage
),

final as (
    select
        customer_id,
        from_stage,
        to_stage,
        transitioned_at,
        days_in_state,
        is_from_stage_inferred,
        matched_rule is not null as is_valid,
        coalesce(matched_rule, 'not in the journey map: ' || from_stage || ' -> ' || to_stage) as rule,
        recency_rank = 1 as is_current
    from checked
)

select * from final
