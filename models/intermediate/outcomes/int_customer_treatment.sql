{#- One row per known customer: whether any intervention (feed or policy, known on as_of_date) was made for them.
    Treated customers are compared with the baseline (known customers without any intervention). -#}
with

customers as (
    select * from {{ ref('stg_customers') }}
),

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

per_customer as (
    select
        customer_id,
        count(*) as intervention_count,
        count(case when is_pending then intervention_id end) as pending_intervention_count,
        min(generated_at) as first_intervention_at
    from intervention_outcomes
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.segment,
        per_customer.first_intervention_at,
        coalesce(per_customer.intervention_count, 0) as intervention_count,
        coalesce(per_customer.pending_intervention_count, 0) as pending_intervention_count,
        per_customer.customer_id is not null as is_treated
    from customers
    left join per_customer
        on customers.customer_id = per_customer.customer_id
)

select * from final
