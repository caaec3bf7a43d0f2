{#- Per feed: every input record is either staged, rejected or a collapsed exact duplicate. -#}
with

{% for feed in journey_feeds() -%}
{{ feed }} as (
    select * from {{ ref('base_' ~ feed) }}
),

{% endfor -%}

counts as (
    {%- for feed in journey_feeds() %}
    select
        '{{ feed }}' as source,
        count(*) as input_records,
        count(*) filter (where reject_reason is null and copy_number = 1) as staged_records,
        count(*) filter (where reject_reason is not null) as rejected_records,
        count(*) filter (where reject_reason is null and copy_number > 1) as collapsed_duplicates
    from {{ feed }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        source,
        cast(input_records as bigint) as input_records,
        cast(staged_records as bigint) as staged_records,
        cast(rejected_records as bigint) as rejected_records,
        cast(collapsed_duplicates as bigint) as collapsed_duplicates,
        cast(
            case when input_records = 0 then 1.0 else staged_records * 1.0 / input_records end as double
        ) as completeness
    from counts
)

select * from final
