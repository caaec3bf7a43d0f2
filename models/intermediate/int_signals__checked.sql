{#- Staged signals with their reference check: a signal whose customer is unknown is an orphan. -#}
with

signals as (
    select * from {{ ref('stg_signals') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

final as (
    select
        signals.*,
        case when customers.customer_id is null then 'customer_id' end as missing_reference,
        case when customers.customer_id is null then signals.customer_id end as missing_key,
        customers.customer_id is null as is_orphan
    from signals
    left join customers
        on signals.customer_id = customers.customer_id
)

select * from final
