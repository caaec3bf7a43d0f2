with

transitions as (
    select * from {{ ref('int_journey_transitions') }}
),

final as (
    select
        cast(customer_id as {{ string_type() }}) as customer_id,
        cast(from_stage as {{ string_type() }}) as from_stage,
        cast(to_stage as {{ string_type() }}) as to_stage,
        cast(transitioned_at as date) as transitioned_at,
        cast(is_valid as boolean) as is_valid,
        cast(rule as {{ string_type() }}) as rule,
        cast(is_from_stage_inferred as boolean) as is_from_stage_inferred,
        cast(is_current as boolean) as is_current
    from transitions
)

select * from final
