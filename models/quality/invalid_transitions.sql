{#- One row per observed transition that the journey map does not allow (C009's support -> engagement in the
    sample). -#}
with

transitions as (
    select * from {{ ref('int_journey_transitions') }}
),

final as (
    select
        customer_id,
        from_stage,
        to_stage,
        transitioned_at,
        rule,
        is_current
    from transitions
    where not is_valid
)

select * from final
