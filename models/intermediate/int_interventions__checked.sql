{#- Staged interventions with their reference checks: an intervention whose customer is unknown, or that cites
    a signal that is unknown (or is itself an orphan), is an orphan. The first failing check is reported. -#}
with

interventions as (
    select * from {{ ref('stg_interventions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

known_signals as (
    select signal_id from {{ ref('int_signals__checked') }}
    where not is_orphan
),

cited_signals as (
    select
        intervention_id,
        {{ unnest_list('triggered_by_signals') }} as signal_id
    from interventions
),

unknown_citations as (
    select
        cited_signals.intervention_id,
        min(cited_signals.signal_id) as first_unknown_signal_id
    from cited_signals
    left join known_signals
        on cited_signals.signal_id = known_signals.signal_id
    where known_signals.signal_id is null
    group by cited_signals.intervention_id
),

final as (
    select
        interventions.*,
        case
            when customers.customer_id is null then 'customer_id'
            when unknown_citations.intervention_id is not null then 'signal_id'
        end as missing_reference,
        case
            when customers.customer_id is null then interventions.customer_id
            else unknown_citations.first_unknown_signal_id
        end as missing_key,
        customers.customer_id is null or unknown_citations.intervention_id is not null as is_orphan
    from interventions
    left join customers
        on interventions.customer_id = customers.customer_id
    left join unknown_citations
        on interventions.intervention_id = unknown_citations.intervention_id
)

select * from final
