{#- Every intervention, whatever made it: the interventions feed (orphans excluded) and the policy step.
    origin says which. Feed rows have no policy columns; policy rows have no loaded_from. A policy
    intervention a reviewer rejected never happened: it stays in policy.interventions, not here. Both parts
    take the interventions feed's fields (var `feeds`, feed_field_names), then origin and the policy's columns
    (null for feed rows). -#}
{%- set feed_columns = feed_field_names('interventions') -%}
with

feed_interventions as (
    select * from {{ ref('int_interventions__checked') }}
    where not is_orphan
),

policy_interventions as (
    select * from {{ ref('stg_policy__interventions') }}
    where approval_status is distinct from 'rejected'
),

combined as (
    select
        {{ feed_columns | join(',\n        ') }},
        'feed' as origin,
        cast(null as {{ string_type() }}) as policy_version,
        cast(null as {{ string_type() }}) as decision_id,
        cast(null as {{ string_type() }}) as approval_status,
        cast(null as {{ string_type() }}) as reason
    from feed_interventions

    union all

    select
        {{ feed_columns | join(',\n        ') }},
        'policy' as origin,
        policy_version,
        decision_id,
        approval_status,
        reason
    from policy_interventions
),

final as (
    select * from combined
)

select * from final
