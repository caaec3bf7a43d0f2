{#- The interventions with an outcome recorded on or before as_of_date: an outcome of the feed whose customer is
    known (or not given). The policy reads it to tell an open intervention from a closed one: it is built before the
    policy (from the feeds alone), while the outcome marts, which hold the policy's own interventions too, are built
    after it. For any known intervention, "listed here" is exactly "not is_pending" in int_intervention_outcomes
    (same outcomes: not orphaned, measured by as_of_date). -#}
with

outcomes as (
    select * from {{ ref('stg_outcomes') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

recorded as (
    select distinct outcomes.intervention_id
    from outcomes
    cross join as_of
    left join customers
        on outcomes.customer_id = customers.customer_id
    where
        outcomes.measured_at <= as_of.as_of_date
        and (outcomes.customer_id is null or customers.customer_id is not null)
),

final as (
    select * from recorded
)

select * from final
