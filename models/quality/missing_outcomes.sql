{#- One row per intervention with no outcome yet (known on as_of_date): its age and whether it is overdue, i.e.
    older than outcome_overdue_days in ref_kpi_parameters. -#}
with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

final as (
    select
        intervention_id,
        customer_id,
        recommended_action,
        requires_human_approval,
        approval_status,
        origin,
        generated_at,
        cast(age_days as bigint) as age_days,
        outcome_overdue_days,
        is_overdue,
        as_of_date
    from intervention_outcomes
    where is_pending
)

select * from final
