with

base as (
    select * from {{ ref('base_journey_state_log') }}
),

final as (
    select
        customer_id,
        journey_stage,
        previous_stage,
        state_entered_at,
        days_in_state,
        duplicate_count,
        loaded_from,
        loaded_at
    from base
    where reject_reason is null and copy_number = 1
)

select * from final
