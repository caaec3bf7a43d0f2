{#- Interventions that need a person: they require human approval and have no outcome yet, oldest first, with
    the customer's account value so reviewers can start with what matters most. Policy interventions carry their
    approval_status; the feed does not record one (null). -#}
with

intervention_outcomes as (
    select * from {{ ref('intervention_outcomes') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

final as (
    select
        intervention_outcomes.intervention_id,
        intervention_outcomes.customer_id,
        customers.segment,
        customers.account_value,
        intervention_outcomes.recommended_action,
        intervention_outcomes.confidence,
        intervention_outcomes.origin,
        intervention_outcomes.generated_at,
        intervention_outcomes.age_days,
        intervention_outcomes.is_overdue,
        coalesce(intervention_outcomes.approval_status, 'unknown (feed)') as approval_status
    from intervention_outcomes
    inner join customers
        on intervention_outcomes.customer_id = customers.customer_id
    where
        intervention_outcomes.requires_human_approval
        and intervention_outcomes.is_pending
        and coalesce(intervention_outcomes.approval_status, 'pending') = 'pending'
)

select * from final
order by age_days desc, account_value desc, intervention_id asc
