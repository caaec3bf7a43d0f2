with

base as (
    select * from {{ ref('base_customers') }}
),

final as (
    select
        customer_id,
        segment,
        account_value,
        tenure_months,
        risk_tier,
        duplicate_count,
        loaded_from,
        loaded_at
    from base
    where reject_reason is null and copy_number = 1
)

select * from final
