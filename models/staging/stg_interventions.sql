with

base as (
    select * from {{ ref('base_interventions') }}
),

final as (
    select
        intervention_id,
        customer_id,
        journey_stage,
        recommended_action,
        confidence,
        requires_human_approval,
        coalesce(triggered_by_signals, {{ empty_string_list() }}) as triggered_by_signals,
        evaluation_latency_ms,
        generated_at,
        duplicate_count,
        loaded_from,
        loaded_at
    from base
    where reject_reason is null and copy_number = 1
)

select * from final
