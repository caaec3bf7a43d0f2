{#- Per signal type and source: how often a signal is followed, within event_window_days, by an adverse event of
    the same customer (intermediate.int_adverse_events: events the feeds report, never the project's own score),
    as precision of "signal fired" against the base rate of every signal, the recall of those events, and the
    success rate of the interventions the signals triggered. A signal is measured once its follow-up window has
    closed (detected_date + event_window_days <= as_of_date). Every known signal type x source is a row; one with
    fewer signals than min_signals_for_ranking is 'insufficient data' and not ranked. -#}
{%- set window_end = dbt.dateadd('day', 'parameters.event_window_days', 'signals.detected_at') %}
{%- set checked_window_end = dbt.dateadd('day', 'parameters.event_window_days', 'checked_signals.detected_at') %}
with

checked_signals as (
    select * from {{ ref('int_signals__checked') }}
    where not is_orphan
),

adverse_events as (
    select * from {{ ref('int_adverse_events') }}
),

interventions as (
    select * from {{ ref('int_interventions__combined') }}
),

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

signal_types as (
    select * from {{ ref('ref_signal_types') }}
),

signal_sources as (
    select * from {{ ref('ref_signal_sources') }}
),

parameters as (
    select * from {{ ref('int_learning_parameters') }}
),

impact_parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

signals as (
    select
        checked_signals.signal_id,
        checked_signals.customer_id,
        checked_signals.signal_type,
        checked_signals.source,
        checked_signals.detected_at,
        {{ checked_window_end }} <= as_of.as_of_date as is_follow_up_complete
    from checked_signals
    cross join as_of
    cross join parameters
    where checked_signals.detected_at <= as_of.as_of_date
),

{# every (signal, adverse event) of the same customer with the event in (detected_at, detected_at + window] -#}
signal_events as (
    select
        signals.signal_id,
        signals.signal_type,
        signals.source,
        adverse_events.event_type || '|' || adverse_events.source || '|' || adverse_events.record_key as event_key
    from signals
    cross join parameters
    inner join adverse_events
        on
        signals.customer_id = adverse_events.customer_id
        and signals.detected_at < adverse_events.event_date
        and adverse_events.event_date <= {{ window_end }}
),

followed_signals as (
    select distinct signal_id from signal_events
),

signal_follow_up as (
    select
        signals.*,
        followed_signals.signal_id is not null as is_followed_by_event
    from signals
    left join followed_signals
        on signals.signal_id = followed_signals.signal_id
),

precision_counts as (
    select
        signal_type,
        source,
        count(case when is_follow_up_complete then signal_id end) as signals,
        count(distinct case when is_follow_up_complete then customer_id end) as customers,
        count(case when is_follow_up_complete and is_followed_by_event then signal_id end)
            as signals_followed_by_event,
        count(case when not is_follow_up_complete then signal_id end) as signals_awaiting_follow_up
    from signal_follow_up
    group by signal_type, source
),

base_rate as (
    select
        count(case when is_follow_up_complete then signal_id end) as base_signals,
        count(case when is_follow_up_complete and is_followed_by_event then signal_id end) as base_followed
    from signal_follow_up
),

events_total as (
    select count(*) as events_total from adverse_events
),

preceded_counts as (
    select
        signal_type,
        source,
        count(distinct event_key) as events_preceded
    from signal_events
    group by signal_type, source
),

triggers as (
    select
        intervention_id,
        {{ unnest_list('triggered_by_signals') }} as signal_id
    from interventions
),

triggering_signals as (
    select distinct
        intervention_outcomes.intervention_id,
        intervention_outcomes.is_pending,
        intervention_outcomes.is_success,
        triggers.signal_id
    from intervention_outcomes
    inner join triggers
        on intervention_outcomes.intervention_id = triggers.intervention_id
),

triggered as (
    select distinct
        signals.signal_type,
        signals.source,
        triggering_signals.intervention_id,
        triggering_signals.is_pending,
        triggering_signals.is_success
    from triggering_signals
    inner join signals
        on triggering_signals.signal_id = signals.signal_id
),

triggered_counts as (
    select
        signal_type,
        source,
        count(*) as triggered_interventions,
        count(case when not is_pending then intervention_id end) as triggered_with_outcome,
        count(case when is_success then intervention_id end) as triggered_successes
    from triggered
    group by signal_type, source
),

{# every known type x source, and any other pair the signals hold (unknown types) -#}
groups as (
    select
        signal_types.signal_type,
        signal_sources.source
    from signal_types
    cross join signal_sources
    union
    select
        signal_type,
        source
    from signals
),

measured as (
    select
        groups.signal_type,
        groups.source,
        events_total.events_total,
        parameters.event_window_days,
        parameters.min_signals_for_ranking,
        parameters.learning_config_hash,
        impact_parameters.z_confidence,
        as_of.as_of_date,
        coalesce(signal_types.polarity, 'unknown') as polarity,
        coalesce(precision_counts.signals, 0) as signals,
        coalesce(precision_counts.customers, 0) as customers,
        coalesce(precision_counts.signals_followed_by_event, 0) as signals_followed_by_event,
        coalesce(precision_counts.signals_awaiting_follow_up, 0) as signals_awaiting_follow_up,
        {{ kpi_ratio('precision_counts.signals_followed_by_event', 'precision_counts.signals') }}
            as signal_precision,
        {{ kpi_ratio('base_rate.base_followed', 'base_rate.base_signals') }} as base_rate,
        coalesce(preceded_counts.events_preceded, 0) as events_preceded,
        coalesce(triggered_counts.triggered_interventions, 0) as triggered_interventions,
        coalesce(triggered_counts.triggered_with_outcome, 0) as triggered_with_outcome,
        coalesce(triggered_counts.triggered_successes, 0) as triggered_successes,
        coalesce(precision_counts.signals, 0) >= parameters.min_signals_for_ranking as is_rankable
    from groups
    cross join base_rate
    cross join events_total
    cross join parameters
    cross join impact_parameters
    cross join as_of
    left join signal_types
        on groups.signal_type = signal_types.signal_type
    left join precision_counts
        on
        groups.signal_type = precision_counts.signal_type
        and groups.source = precision_counts.source
    left join preceded_counts
        on
        groups.signal_type = preceded_counts.signal_type
        and groups.source = preceded_counts.source
    left join triggered_counts
        on
        groups.signal_type = triggered_counts.signal_type
        and groups.source = triggered_counts.source
),

with_lift as (
    select
        *,
        case when base_rate > 0 then signal_precision / base_rate end as lift
    from measured
),

ranked as (
    select
        *,
        case
            when is_rankable and lift is not null
                then rank() over (
                    partition by is_rankable and lift is not null
                    order by lift desc
                )
        end as effectiveness_rank
    from with_lift
),

final as (
    select
        cast(signal_type as {{ string_type() }}) as signal_type,
        cast(source as {{ string_type() }}) as source,
        cast(polarity as {{ string_type() }}) as polarity,
        cast(signals as bigint) as signals,
        cast(customers as bigint) as customers,
        cast(signals_followed_by_event as bigint) as signals_followed_by_event,
        cast(signals_awaiting_follow_up as bigint) as signals_awaiting_follow_up,
        cast(signal_precision as double) as precision,
        cast({{ wilson_lower('signal_precision', 'signals', 'z_confidence') }} as double) as precision_ci_lower,
        cast({{ wilson_upper('signal_precision', 'signals', 'z_confidence') }} as double) as precision_ci_upper,
        cast(base_rate as double) as base_rate,
        cast(lift as double) as lift,
        cast(events_total as bigint) as events_total,
        cast(events_preceded as bigint) as events_preceded,
        {{ kpi_ratio('events_preceded', 'events_total') }} as recall,
        cast(triggered_interventions as bigint) as triggered_interventions,
        cast(triggered_with_outcome as bigint) as triggered_with_outcome,
        cast(triggered_successes as bigint) as triggered_successes,
        {{ kpi_ratio('triggered_successes', 'triggered_with_outcome') }} as triggered_success_rate,
        cast(effectiveness_rank as integer) as effectiveness_rank,
        cast(case when is_rankable then 'measured' else 'insufficient data' end as {{ string_type() }}) as status,
        cast(
            case
                when is_rankable
                    then
                        signal_type || ' (' || source || '): '
                        || cast(round(100 * signal_precision, 1) as {{ string_type() }}) || ' % of '
                        || cast(signals as {{ string_type() }}) || ' signals were followed by an adverse event within '
                        || cast(event_window_days as {{ string_type() }}) || ' days, against '
                        || cast(round(100 * base_rate, 1) as {{ string_type() }}) || ' % of all signals'
                        || case
                            when effectiveness_rank is not null
                                then
                                    ' (lift ' || cast(round(lift, 2) as {{ string_type() }}) || ', rank '
                                    || cast(effectiveness_rank as {{ string_type() }}) || ')'
                            else ''
                        end
                else
                    'insufficient data: ' || cast(signals as {{ string_type() }})
                    || ' signals with a complete ' || cast(event_window_days as {{ string_type() }})
                    || '-day follow-up (' || cast(min_signals_for_ranking as {{ string_type() }})
                    || ' needed to rank); ' || cast(signals_awaiting_follow_up as {{ string_type() }})
                    || ' more still within their window'
            end as {{ string_type() }}
        ) as conclusion,
        cast(event_window_days as integer) as event_window_days,
        cast(learning_config_hash as {{ string_type() }}) as learning_config_hash,
        cast(as_of_date as date) as as_of_date
    from ranked
)

select * from final
