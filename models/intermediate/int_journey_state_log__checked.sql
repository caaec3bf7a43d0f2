{#- Staged journey log rows with their reference check: a row whose customer is unknown is an orphan. -#}
with

journey_log as (
    select * from {{ ref('stg_journey_state_log') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

final as (
    select
        journey_log.*,
        case when customers.customer_id is null then 'customer_id' end as missing_reference,
        case when customers.customer_id is null then journey_log.customer_id end as missing_key,
        customers.customer_id is null as is_orphan
    from journey_log
    left join customers
        on journey_log.customer_id = customers.customer_id
)

select * from final
