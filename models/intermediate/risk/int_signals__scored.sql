{#- Every signal of a known customer with its polarity, source weight and recency decay at as_of_date.
    Signals outside the window (older than signal_window_days, or after as_of_date) get in_window = false.
    A negative signal is resolved when a later positive signal of a type that resolves it (ref_signal_types.
    resolves_signal_types) was detected for the same customer in the window. -#}
{#- A view: one model reads it (nothing else does), so writing its rows as a table cost a full write at 1M customers
    for one read. -#}
{{ config(materialized='view') }}

with

signals as (
    select * from {{ ref('int_signals__checked') }}
    where not is_orphan
),

signal_types as (
    select * from {{ ref('ref_signal_types') }}
),

signal_sources as (
    select * from {{ ref('ref_signal_sources') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

config as (
    select * from {{ ref('int_scoring_config') }}
),

interventions as (
    select * from {{ ref('int_interventions__checked') }}
    where not is_orphan
),

cited as (
    select distinct {{ unnest_list('triggered_by_signals') }} as signal_id
    from interventions
),

weighted as (
    select
        signals.signal_id,
        signals.customer_id,
        signals.signal_type,
        signals.signal_strength,
        signals.detected_at,
        signals.source,
        coalesce(signal_types.polarity, 'unknown') as polarity,
        coalesce(signal_sources.source_weight, 0) as source_weight,
        as_of.as_of_date,
        {{ dbt.datediff('signals.detected_at', 'as_of.as_of_date', 'day') }} as age_days,
        config.recency_half_life_days,
        config.signal_window_days,
        config.strong_signal_threshold
    from signals
    cross join as_of
    cross join config
    left join signal_types
        on signals.signal_type = signal_types.signal_type
    left join signal_sources
        on signals.source = signal_sources.source
),

windowed as (
    select
        *,
        age_days >= 0 and age_days <= signal_window_days as in_window,
        power(0.5, greatest(age_days, 0) / recency_half_life_days) as recency_weight
    from weighted
),

resolutions as (
    select distinct negative.signal_id
    from windowed as negative
    inner join windowed as positive
        on negative.customer_id = positive.customer_id
        and negative.detected_at <= positive.detected_at
        and positive.in_window
    inner join signal_types
        on positive.signal_type = signal_types.signal_type
    where
        negative.polarity = 'negative'
        and negative.in_window
        and {{ delimited_contains("coalesce(signal_types.resolves_signal_types, '')", '|', 'negative.signal_type') }}
),

final as (
    select
        windowed.signal_id,
        windowed.customer_id,
        windowed.signal_type,
        windowed.signal_strength,
        windowed.detected_at,
        windowed.source,
        windowed.polarity,
        windowed.source_weight,
        windowed.age_days,
        windowed.in_window,
        windowed.recency_weight,
        case
            when windowed.in_window and windowed.polarity <> 'unknown'
                then windowed.signal_strength * windowed.source_weight * windowed.recency_weight
            else 0
        end as effective_strength,
        resolutions.signal_id is not null as is_resolved,
        cited.signal_id is not null as is_addressed,
        windowed.polarity = 'negative'
        and windowed.in_window
        and resolutions.signal_id is null
        and windowed.signal_strength >= windowed.strong_signal_threshold
        and cited.signal_id is null as is_unaddressed_strong_negative
    from windowed
    left join resolutions
        on windowed.signal_id = resolutions.signal_id
    left join cited
        on windowed.signal_id = cited.signal_id
)

select * from final
