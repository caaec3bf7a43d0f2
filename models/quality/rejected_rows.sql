{#- One row per input record that was not staged, with the reason. Exact duplicates are not here:
    they are collapsed in staging and counted in feed_accounting. -#}
with

{% for feed in journey_feeds() -%}
{{ feed }} as (
    select * from {{ ref('base_' ~ feed) }}
),

{% endfor -%}

rejected as (
    {%- for feed in journey_feeds() %}
    select
        '{{ feed }}' as source,
        record_key,
        reject_reason as reason,
        reject_detail as reason_detail,
        raw_record,
        loaded_from,
        loaded_at
    from {{ feed }}
    where reject_reason is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select * from rejected
)

select * from final
