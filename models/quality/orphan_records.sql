{#- One row per orphan reference: a record that points at a customer, signal or intervention that is not known.
    Orphans never reach the marts. -#}
with

{% set checked = {
    'journey_state_log': 'customer_id',
    'signals': 'signal_id',
    'interventions': 'intervention_id',
    'outcomes': 'outcome_id',
} -%}
{% for feed in checked -%}
{{ feed }} as (
    select * from {{ ref('int_' ~ feed ~ '__checked') }}
),

{% endfor -%}

orphans as (
    {%- for feed, key in checked.items() %}
    select
        '{{ feed }}' as source,
        {% if feed == 'journey_state_log' -%}
        customer_id || '|' || cast(state_entered_at as {{ string_type() }})
        {%- else -%}
        {{ key }}
        {%- endif %} as record_key,
        customer_id,
        missing_reference,
        missing_key
    from {{ feed }}
    where is_orphan
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select * from orphans
)

select * from final
