{#- What each known customer's signals add up to at as_of_date. Pressures combine the effective strengths
    (strength x source weight x recency decay) of the signals in the window as a noisy-OR, 1 - prod(1 - s),
    so they stay in [0, 1] and grow with each added signal. Resolved negatives are left out of the
    negative pressure and of the conflict test. -#}
with

customers as (
    select * from {{ ref('stg_customers') }}
),

scored_signals as (
    select * from {{ ref('int_signals__scored') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

per_customer as (
    select
        customer_id,
        count(*) as signal_count,
        count(*) filter (where polarity = 'negative') as negative_signal_count,
        count(*) filter (where polarity = 'positive') as positive_signal_count,
        count(*) filter (where polarity = 'unknown') as unknown_type_signal_count,
        count(*) filter (where polarity = 'negative' and is_resolved) as resolved_signal_count,
        count(*) filter (where in_window and polarity = 'negative' and not is_resolved) as active_negative_count,
        count(*) filter (where in_window and polarity = 'positive') as active_positive_count,
        1 - exp(sum(
            case
                when polarity = 'negative' and not is_resolved then ln(1 - least(effective_strength, 0.999999))
                else 0
            end
        )) as negative_pressure,
        1 - exp(sum(
            case when polarity = 'positive' then ln(1 - least(effective_strength, 0.999999)) else 0 end
        )) as positive_pressure,
        max(signal_strength) as max_signal_strength,
        max(detected_at) as last_signal_at,
        {{ sorted_list_agg('signal_id') }} as signal_ids,
        {{ sorted_list_agg('signal_id', "in_window and polarity = 'negative' and not is_resolved") }}
            as active_negative_signal_ids,
        count(*) filter (where is_unaddressed_strong_negative) as unaddressed_signal_count,
        sum(case when source = 'automated' then 1 else 0 end) * 1.0 / count(*) as automated_signal_share
    from scored_signals
    group by customer_id
),

final as (
    select
        cast(customers.customer_id as {{ string_type() }}) as customer_id,
        cast(coalesce(per_customer.signal_count, 0) as integer) as signal_count,
        cast(coalesce(per_customer.negative_signal_count, 0) as integer) as negative_signal_count,
        cast(coalesce(per_customer.positive_signal_count, 0) as integer) as positive_signal_count,
        cast(coalesce(per_customer.unknown_type_signal_count, 0) as integer) as unknown_type_signal_count,
        cast(coalesce(per_customer.resolved_signal_count, 0) as integer) as resolved_signal_count,
        cast(coalesce(per_customer.negative_pressure, 0) as double) as negative_pressure,
        cast(coalesce(per_customer.positive_pressure, 0) as double) as positive_pressure,
        cast(
            coalesce(per_customer.positive_pressure, 0) - coalesce(per_customer.negative_pressure, 0) as double
        ) as net_signal_score,
        cast(per_customer.max_signal_strength as double) as max_signal_strength,
        cast(
            coalesce(per_customer.active_negative_count > 0 and per_customer.active_positive_count > 0, false)
            as boolean
        ) as has_conflicting_signals,
        cast(per_customer.last_signal_at as date) as last_signal_at,
        cast(coalesce(per_customer.signal_ids, {{ empty_string_list() }}) as {{ string_list_type() }}) as signal_ids,
        cast(
            coalesce(per_customer.active_negative_signal_ids, {{ empty_string_list() }}) as {{ string_list_type() }}
        ) as active_negative_signal_ids,
        cast(coalesce(per_customer.unaddressed_signal_count, 0) as integer) as unaddressed_signal_count,
        cast(per_customer.automated_signal_share as double) as automated_signal_share,
        cast(as_of.as_of_date as date) as as_of_date
    from customers
    cross join as_of
    left join per_customer
        on customers.customer_id = per_customer.customer_id
)

select * from final
