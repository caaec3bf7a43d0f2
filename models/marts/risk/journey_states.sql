{#- Where each known customer is now: the latest journey log row, its SLA and whether it is stalled.
    days_in_state is the feed's value when present, else as_of_date - state_entered_at.
    Stalled means days_in_state strictly greater than the stage SLA. -#}
with

customers as (
    select * from {{ ref('stg_customers') }}
),

transitions as (
    select * from {{ ref('int_journey_transitions') }}
),

stages as (
    select * from {{ ref('ref_stage_slas') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

current_state as (
    select * from transitions
    where is_current
),

invalid_counts as (
    select
        customer_id,
        count(*) as invalid_transition_count
    from transitions
    where not is_valid
    group by customer_id
),

joined as (
    select
        customers.customer_id,
        customers.segment,
        customers.account_value,
        customers.tenure_months,
        customers.risk_tier,
        current_state.to_stage as journey_stage,
        current_state.from_stage as previous_stage,
        current_state.transitioned_at as state_entered_at,
        coalesce(
            current_state.days_in_state,
            {{ dbt.datediff('current_state.transitioned_at', 'as_of.as_of_date', 'day') }}
        ) as days_in_state,
        case
            when current_state.days_in_state is not null then 'feed'
            when current_state.customer_id is not null then 'computed'
        end as days_in_state_source,
        stages.sla_days as stage_sla_days,
        stages.stage_risk,
        current_state.is_valid as is_transition_valid,
        current_state.rule as transition_rule,
        coalesce(invalid_counts.invalid_transition_count, 0) as invalid_transition_count,
        current_state.customer_id is not null as has_journey_row,
        as_of.as_of_date
    from customers
    cross join as_of
    left join current_state
        on customers.customer_id = current_state.customer_id
    left join stages
        on current_state.to_stage = stages.journey_stage
    left join invalid_counts
        on customers.customer_id = invalid_counts.customer_id
),

final as (
    select
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(segment as {{ string_type() }}) as segment,
        cast(account_value as decimal(18, 2)) as account_value,
        cast(tenure_months as integer) as tenure_months,
        cast(risk_tier as {{ string_type() }}) as risk_tier,
        cast(journey_stage as {{ string_type() }}) as journey_stage,
        cast(previous_stage as {{ string_type() }}) as previous_stage,
        cast(state_entered_at as date) as state_entered_at,
        cast(days_in_state as integer) as days_in_state,
        cast(days_in_state_source as {{ string_type() }}) as days_in_state_source,
        cast(stage_sla_days as integer) as stage_sla_days,
        cast(coalesce(days_in_state > stage_sla_days, false) as boolean) as is_stalled,
        cast(is_transition_valid as boolean) as is_transition_valid,
        cast(transition_rule as {{ string_type() }}) as transition_rule,
        cast(invalid_transition_count as integer) as invalid_transition_count,
        cast(stage_risk as double) as stage_risk,
        cast(has_journey_row as boolean) as has_journey_row,
        cast(as_of_date as date) as as_of_date
    from joined
)

select * from final
