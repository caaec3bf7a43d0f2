{#- How well the risk score ranked the customers who then had an adverse event (intermediate.int_adverse_events:
    events the feeds report, never the score itself). Per scored date of marts.customer_risk_history whose
    follow-up is complete (scored_date + event_window_days <= as_of_date): customers, customers with an event in
    (scored_date, scored_date + window], event rate and lift, for the date ('all', with the AUC), by score bin
    (score_bins bins by rank of the score on that date, bin 1 = the highest scores; tied scores share a bin) and
    by risk band. A date whose window is still open gets one 'all' row, status 'follow-up incomplete'. On 'all'
    rows, the score's drift from the previous scored date: mean change per customer and the population stability
    index over the previous date's score bins.

    Incremental by scored_date (delete+insert; insert_overwrite of its partition on Spark): a run computes the
    dates not yet in the table, its own as_of_date (rewritten by this run), the dates whose window closes on it
    (their last follow-up day is this run's), the dates still marked 'follow-up incomplete' whose window has
    closed since (days without a run), and every date when the learning config changed. Older dates are kept, so
    the cost does not grow with the history; --full-refresh recomputes every date. -#}
{{ config(
    materialized='incremental',
    unique_key='scored_date',
    incremental_strategy=replace_keys_strategy(),
    partition_by=replace_keys_partition('scored_date'),
    on_schema_change='fail',
) }}
{%- set window_end = dbt.dateadd('day', 'parameters.event_window_days', 'all_dates.scored_date') -%}
{%- set window_end = 'cast(' ~ window_end ~ ' as date)' %}
{#- DuckDB materializes a CTE that is read more than once: the whole history would be copied on every run (a cost
    that grows with it); not materialized lets the date filters below reach the table scan. -#}
{%- set not_materialized = 'not materialized' if target.type == 'duckdb' else '' %}
with

history as {{ not_materialized }} (
    select * from {{ ref('customer_risk_history') }}
),

adverse_events as (
    select * from {{ ref('int_adverse_events') }}
),

risk_bands as (
    select * from {{ ref('ref_risk_bands') }}
),

parameters as (
    select * from {{ ref('int_learning_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

{% if is_incremental() -%}
computed as (
    select
        scored_date,
        status,
        learning_config_hash
    from {{ this }}
    where grouping_name = 'all'
),

{% endif -%}

history_dates as (
    select distinct history.as_of_date as scored_date
    from history
    cross join as_of
    where history.as_of_date <= as_of.as_of_date
),

all_dates as (
    select
        scored_date,
        lag(scored_date) over (order by scored_date) as previous_scored_date
    from history_dates
),

scored_dates as (
    select
        all_dates.scored_date,
        all_dates.previous_scored_date,
        {{ window_end }} as follow_up_end_date,
        {{ window_end }} <= as_of.as_of_date as is_follow_up_complete
    from all_dates
    cross join parameters
    cross join as_of
    {%- if is_incremental() %}
    left join computed
        on all_dates.scored_date = computed.scored_date
    where
        computed.scored_date is null
        or all_dates.scored_date = as_of.as_of_date
        or {{ window_end }} = as_of.as_of_date
        or ({{ window_end }} <= as_of.as_of_date and computed.status = 'follow-up incomplete')
        or computed.learning_config_hash != parameters.learning_config_hash
    {%- endif %}
),

scored_customers as (
    select
        history.customer_id,
        history.risk_score,
        history.risk_band,
        scored_dates.scored_date,
        scored_dates.follow_up_end_date,
        scored_dates.is_follow_up_complete
    from history
    inner join scored_dates
        on history.as_of_date = scored_dates.scored_date
),

customer_events as (
    select distinct
        scored_customers.scored_date,
        scored_customers.customer_id
    from scored_customers
    inner join adverse_events
        on
        scored_customers.customer_id = adverse_events.customer_id
        and scored_customers.scored_date < adverse_events.event_date
        and scored_customers.follow_up_end_date >= adverse_events.event_date
    where scored_customers.is_follow_up_complete
),

{# the measured dates' customers, each with its event flag and score bin (by rank of the score, highest first;
    tied scores take the bin of their first rank) -#}
labelled as (
    select
        scored_customers.scored_date,
        scored_customers.customer_id,
        scored_customers.risk_score,
        scored_customers.risk_band,
        customer_events.customer_id is not null as has_event,
        1 + floor(
            (rank() over (partition by scored_customers.scored_date order by scored_customers.risk_score desc) - 1)
            * cast(parameters.score_bins as double)
            / count(*) over (partition by scored_customers.scored_date)
        ) as score_bin
    from scored_customers
    cross join parameters
    left join customer_events
        on
        scored_customers.scored_date = customer_events.scored_date
        and scored_customers.customer_id = customer_events.customer_id
    where scored_customers.is_follow_up_complete
),

date_totals as (
    select
        scored_dates.scored_date,
        count(scored_customers.customer_id) as customers,
        avg(scored_customers.risk_score) as mean_risk_score,
        min(scored_customers.risk_score) as min_risk_score,
        max(scored_customers.risk_score) as max_risk_score
    from scored_dates
    left join scored_customers
        on scored_dates.scored_date = scored_customers.scored_date
    group by scored_dates.scored_date
),

date_events as (
    select
        scored_date,
        count(case when has_event then customer_id end) as customers_with_event
    from labelled
    group by scored_date
),

{# AUC (Mann-Whitney): the customers ranked by score, tied scores given their mean rank; AUC = (sum of the ranks
    of the customers with an event - n1 (n1 + 1) / 2) / (n1 n0) -#}
score_values as (
    select
        scored_date,
        risk_score,
        count(*) as customers_at_score,
        count(case when has_event then customer_id end) as events_at_score
    from labelled
    group by scored_date, risk_score
),

mid_ranks as (
    select
        scored_date,
        events_at_score,
        customers_at_score,
        coalesce(sum(customers_at_score) over (
            partition by scored_date order by risk_score rows between unbounded preceding and 1 preceding
        ), 0) + (customers_at_score + 1) / 2.0 as mid_rank
    from score_values
),

auc_parts as (
    select
        scored_date,
        sum(events_at_score * mid_rank) as event_rank_sum,
        sum(events_at_score) as with_event,
        sum(customers_at_score) - sum(events_at_score) as without_event
    from mid_ranks
    group by scored_date
),

{# drift from the previous scored date: the customers scored on both, and the previous date's score bins -#}
previous_scores as (
    select
        scored_dates.scored_date,
        history.customer_id,
        history.risk_score,
        1 + floor(
            (rank() over (partition by scored_dates.scored_date order by history.risk_score desc) - 1)
            * cast(parameters.score_bins as double)
            / count(*) over (partition by scored_dates.scored_date)
        ) as score_bin
    from scored_dates
    cross join parameters
    inner join history
        on scored_dates.previous_scored_date = history.as_of_date
),

score_changes as (
    select
        scored_customers.scored_date,
        count(*) as drift_customers,
        avg(scored_customers.risk_score - previous_scores.risk_score) as score_drift_mean
    from scored_customers
    inner join previous_scores
        on
        scored_customers.scored_date = previous_scores.scored_date
        and scored_customers.customer_id = previous_scores.customer_id
    group by scored_customers.scored_date
),

previous_bins as (
    select
        scored_date,
        score_bin,
        count(*) as previous_customers,
        min(risk_score) as bin_min_score
    from previous_scores
    group by scored_date, score_bin
),

{# bin b holds [its lowest score, the lowest score of bin b - 1); bin 1 is open above, the last bin below -#}
previous_edges as (
    select
        scored_date,
        score_bin,
        previous_customers,
        bin_min_score,
        lag(bin_min_score) over (partition by scored_date order by score_bin) as bin_upper_score,
        score_bin = max(score_bin) over (partition by scored_date) as is_lowest_bin,
        sum(previous_customers) over (partition by scored_date) as previous_total,
        count(*) over (partition by scored_date) as bins
    from previous_bins
),

current_in_previous_bins as (
    select
        previous_edges.scored_date,
        previous_edges.score_bin,
        count(scored_customers.customer_id) as current_customers
    from previous_edges
    left join scored_customers
        on
        previous_edges.scored_date = scored_customers.scored_date
        and (previous_edges.bin_min_score <= scored_customers.risk_score or previous_edges.is_lowest_bin)
        and (
            previous_edges.bin_upper_score is null
            or previous_edges.bin_upper_score > scored_customers.risk_score
        )
    group by previous_edges.scored_date, previous_edges.score_bin
),

{# PSI = sum over bins of (current share - previous share) x ln(current share / previous share), each share
    smoothed by adding one customer to every bin (add-one), so an empty bin has a finite term -#}
bin_shares as (
    select
        previous_edges.scored_date,
        (cast(previous_edges.previous_customers as double) + 1) / (previous_edges.previous_total + previous_edges.bins)
            as previous_share,
        (cast(current_in_previous_bins.current_customers as double) + 1) / (date_totals.customers + previous_edges.bins)
            as current_share
    from previous_edges
    inner join current_in_previous_bins
        on
        previous_edges.scored_date = current_in_previous_bins.scored_date
        and previous_edges.score_bin = current_in_previous_bins.score_bin
    inner join date_totals
        on previous_edges.scored_date = date_totals.scored_date
),

psi as (
    select
        scored_date,
        sum((current_share - previous_share) * ln(current_share / previous_share)) as score_drift_psi
    from bin_shares
    group by scored_date
),

bin_groups as (
    select
        scored_date,
        cast(score_bin as integer) as grouping_order,
        count(*) as customers,
        count(case when has_event then customer_id end) as customers_with_event,
        avg(risk_score) as mean_risk_score,
        min(risk_score) as min_risk_score,
        max(risk_score) as max_risk_score
    from labelled
    group by scored_date, score_bin
),

measured_dates as (
    select distinct scored_date from labelled
),

band_groups as (
    select
        measured_dates.scored_date,
        risk_bands.risk_band,
        risk_bands.band_order as grouping_order,
        count(labelled.customer_id) as customers,
        count(case when labelled.has_event then labelled.customer_id end) as customers_with_event,
        avg(labelled.risk_score) as mean_risk_score,
        min(labelled.risk_score) as min_risk_score,
        max(labelled.risk_score) as max_risk_score
    from measured_dates
    cross join risk_bands
    left join labelled
        on
        measured_dates.scored_date = labelled.scored_date
        and risk_bands.risk_band = labelled.risk_band
    group by measured_dates.scored_date, risk_bands.risk_band, risk_bands.band_order
),

dates as (
    select
        scored_dates.scored_date,
        scored_dates.previous_scored_date,
        scored_dates.follow_up_end_date,
        scored_dates.is_follow_up_complete,
        date_totals.customers,
        date_events.customers_with_event,
        date_totals.mean_risk_score,
        date_totals.min_risk_score,
        date_totals.max_risk_score,
        score_changes.drift_customers,
        score_changes.score_drift_mean,
        psi.score_drift_psi,
        case
            when auc_parts.with_event > 0 and auc_parts.without_event > 0
                then
                    (auc_parts.event_rank_sum - auc_parts.with_event * (auc_parts.with_event + 1) / 2.0)
                    / (auc_parts.with_event * auc_parts.without_event)
        end as auc,
        case
            when not scored_dates.is_follow_up_complete then 'follow-up incomplete'
            when
                date_events.customers_with_event >= parameters.min_events_for_backtest
                and date_totals.customers - date_events.customers_with_event >= parameters.min_events_for_backtest
                then 'measured'
            else 'insufficient data'
        end as date_status
    from scored_dates
    cross join parameters
    inner join date_totals
        on scored_dates.scored_date = date_totals.scored_date
    left join date_events
        on scored_dates.scored_date = date_events.scored_date
    left join auc_parts
        on scored_dates.scored_date = auc_parts.scored_date
    left join score_changes
        on scored_dates.scored_date = score_changes.scored_date
    left join psi
        on scored_dates.scored_date = psi.scored_date
),

groups as (
    select
        scored_date,
        'all' as grouping_name,
        'all' as grouping_value,
        0 as grouping_order,
        customers,
        customers_with_event,
        mean_risk_score,
        min_risk_score,
        max_risk_score
    from dates
    union all
    select
        scored_date,
        'score_bin' as grouping_name,
        cast(grouping_order as {{ string_type() }}) as grouping_value,
        grouping_order,
        customers,
        customers_with_event,
        mean_risk_score,
        min_risk_score,
        max_risk_score
    from bin_groups
    union all
    select
        scored_date,
        'risk_band' as grouping_name,
        risk_band as grouping_value,
        grouping_order,
        customers,
        customers_with_event,
        mean_risk_score,
        min_risk_score,
        max_risk_score
    from band_groups
),

rated as (
    select
        groups.*,
        dates.previous_scored_date,
        dates.follow_up_end_date,
        dates.is_follow_up_complete,
        dates.date_status,
        dates.auc,
        dates.drift_customers,
        dates.score_drift_mean,
        dates.score_drift_psi,
        case
            when dates.is_follow_up_complete then {{ kpi_ratio('groups.customers_with_event', 'groups.customers') }}
        end as event_rate,
        case
            when dates.date_status = 'measured'
                then {{ kpi_ratio(
                    kpi_ratio('groups.customers_with_event', 'groups.customers'),
                    kpi_ratio('dates.customers_with_event', 'dates.customers')
                ) }}
        end as lift
    from groups
    inner join dates
        on groups.scored_date = dates.scored_date
),

top_bins as (
    select
        scored_date,
        lift as top_bin_lift
    from rated
    where grouping_name = 'score_bin' and grouping_order = 1
),

final as (
    select
        cast(rated.scored_date as date) as scored_date,
        cast(rated.grouping_name as {{ string_type() }}) as grouping_name,
        cast(rated.grouping_value as {{ string_type() }}) as grouping_value,
        cast(rated.grouping_order as integer) as grouping_order,
        cast(rated.follow_up_end_date as date) as follow_up_end_date,
        cast(rated.is_follow_up_complete as boolean) as is_follow_up_complete,
        cast(rated.customers as bigint) as customers,
        cast(case when rated.is_follow_up_complete then rated.customers_with_event end as bigint)
            as customers_with_event,
        cast(rated.event_rate as double) as event_rate,
        cast(rated.lift as double) as lift,
        cast(rated.mean_risk_score as double) as mean_risk_score,
        cast(rated.min_risk_score as double) as min_risk_score,
        cast(rated.max_risk_score as double) as max_risk_score,
        cast(
            case when rated.grouping_name = 'all' and rated.date_status = 'measured' then rated.auc end as double
        ) as auc,
        cast(case when rated.grouping_name = 'all' then rated.previous_scored_date end as date)
            as previous_scored_date,
        cast(case when rated.grouping_name = 'all' then rated.drift_customers end as bigint) as drift_customers,
        cast(case when rated.grouping_name = 'all' then rated.score_drift_mean end as double) as score_drift_mean,
        cast(case when rated.grouping_name = 'all' then rated.score_drift_psi end as double) as score_drift_psi,
        cast(
            case
                when rated.date_status != 'measured' then rated.date_status
                when rated.customers = 0 then 'insufficient data'
                else 'measured'
            end as {{ string_type() }}
        ) as status,
        cast(
            case
                when rated.grouping_name != 'all' then null
                when rated.date_status = 'follow-up incomplete'
                    then
                        'follow-up incomplete: scored on ' || cast(rated.scored_date as {{ string_type() }})
                        || ', its ' || cast(parameters.event_window_days as {{ string_type() }})
                        || '-day window closes on ' || cast(rated.follow_up_end_date as {{ string_type() }})
                when rated.date_status = 'insufficient data'
                    then
                        'insufficient data: ' || cast(rated.customers_with_event as {{ string_type() }})
                        || ' customers with an adverse event and '
                        || cast(rated.customers - rated.customers_with_event as {{ string_type() }})
                        || ' without in the ' || cast(parameters.event_window_days as {{ string_type() }})
                        || ' days after ' || cast(rated.scored_date as {{ string_type() }}) || ' ('
                        || cast(parameters.min_events_for_backtest as {{ string_type() }}) || ' of each needed)'
                else
                    'AUC ' || cast(round(rated.auc, 3) as {{ string_type() }}) || ' on '
                    || cast(rated.customers as {{ string_type() }}) || ' customers scored on '
                    || cast(rated.scored_date as {{ string_type() }}) || ', '
                    || cast(round(100 * rated.event_rate, 1) as {{ string_type() }})
                    || ' % of whom had an adverse event within '
                    || cast(parameters.event_window_days as {{ string_type() }}) || ' days; the top score bin had '
                    || cast(round(top_bins.top_bin_lift, 2) as {{ string_type() }}) || 'x the average rate'
            end as {{ string_type() }}
        ) as conclusion,
        cast(parameters.event_window_days as integer) as event_window_days,
        cast(parameters.learning_config_hash as {{ string_type() }}) as learning_config_hash,
        cast(as_of.as_of_date as date) as as_of_date
    from rated
    cross join parameters
    cross join as_of
    left join top_bins
        on rated.scored_date = top_bins.scored_date
    where rated.grouping_name = 'all' or rated.is_follow_up_complete
)

select * from final
