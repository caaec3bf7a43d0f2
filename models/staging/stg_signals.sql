with

base as (
    select * from {{ ref('base_signals') }}
),

final as (
    select
        signal_id,
        customer_id,
        signal_type,
        signal_strength,
        detected_at,
        journey_stage,
        source,
        duplicate_count,
        loaded_from,
        loaded_at
    from base
    where reject_reason is null and copy_number = 1
)

select * from final
