{#- Staged outcomes with their reference checks: an outcome whose intervention is unknown (neither a
    non-orphan feed intervention nor one the policy made), or whose customer is unknown, is an orphan.
    The intervention's customer is authoritative. -#}
with

outcomes as (
    select * from {{ ref('stg_outcomes') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

feed_interventions as (
    select * from {{ ref('int_interventions__checked') }}
),

policy_interventions as (
    select * from {{ ref('stg_policy__interventions') }}
),

known_interventions as (
    select intervention_id from feed_interventions
    where not is_orphan
    union
    select intervention_id from policy_interventions
),

final as (
    select
        outcomes.*,
        case
            when known_interventions.intervention_id is null then 'intervention_id'
            when outcomes.customer_id is not null and customers.customer_id is null then 'customer_id'
        end as missing_reference,
        case
            when known_interventions.intervention_id is null then outcomes.intervention_id
            when outcomes.customer_id is not null and customers.customer_id is null then outcomes.customer_id
        end as missing_key,
        known_interventions.intervention_id is null
        or (outcomes.customer_id is not null and customers.customer_id is null) as is_orphan
    from outcomes
    left join known_interventions
        on outcomes.intervention_id = known_interventions.intervention_id
    left join customers
        on outcomes.customer_id = customers.customer_id
)

select * from final
