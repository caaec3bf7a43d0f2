with

base as (
    select * from {{ ref('base_outcomes') }}
),

-- the columns in the feed's order (the view's interface), so a calculation sits among simple columns
final as (
    select  -- noqa: ST06
        outcome_id,
        intervention_id,
        customer_id,
        outcome,
        resolution_time_days,
        csat_delta,
        churn_risk_delta,
        estimated_revenue_saved,
        coalesce(human_override, false) as human_override,
        measured_at,
        duplicate_count,
        loaded_from,
        loaded_at
    from base
    where reject_reason is null and copy_number = 1
)

select * from final
