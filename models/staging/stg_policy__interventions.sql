{#- Interventions the policy step wrote to policy.interventions, without the review columns (journey review sets
    them; marts.review_queue and the outcome models do not read them): the source's columns in their declared
    order (_policy__sources.yml, read by source_column_names). Before the policy has ever run the table does not
    exist and this view is empty (source_or_empty falls back to an empty relation with the declared types, which
    are also the types the policy creates the table with). -#}
{%- set columns = source_column_names(
    'policy', 'interventions', exclude=['reviewed_by', 'reviewed_at', 'review_reason']
) -%}
with

policy_interventions as (
    select * from {{ source_or_empty('policy', 'interventions') }}
),

final as (
    select
        {{ columns | join(',\n        ') }}
    from policy_interventions
)

select * from final
