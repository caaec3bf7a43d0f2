{#- The volume and drift metrics of this run, one row per metric (what is measured: var `dq_monitors`,
    dbt_project.yml). Per feed, on this run's delivery (macros/dq_monitors.sql delivered_this_run): records
    delivered, rejected share, the null share of each optional field and the share of each value of the fields
    listed (every value of the field's reference list, 0 when absent); per mart listed, on the whole table: row
    count, shares, means, null shares. One pass per feed and per mart for the counts (at 1M customers the model
    reads some 6M feed records); every part reads the table itself, not a shared CTE (DuckDB materializes a CTE
    read twice, all its columns). Incremental: a run adds the rows of its as_of_date (the history
    quality.dq_metric_anomalies judges) and a rerun of a date replaces them. A run that does not publish leaves none behind: bad data never becomes the baseline. -#}
{{ config(**daily_history_config()) }}

{%- set monitors = var('dq_monitors') %}

with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

{% for feed in journey_feeds() -%}
{%- set nulls = dq_feed_null_fields(feed) -%}
{#- one pass over the delivery for every count of the feed #}
{{ feed }}__counts as (
    select
        count(*) as delivered,
        count(case when reject_reason is not null then 1 end) as rejected,
        {%- for field in nulls %}
        count(case when reject_reason is null and copy_number = 1 and {{ field }} is null then 1 end)
            as null_{{ field }},
        {%- endfor %}
        count(case when reject_reason is null and copy_number = 1 then 1 end) as staged
    from {{ ref('base_' ~ feed) }}
    where {{ delivered_this_run('loaded_from') }}
),

{% endfor -%}

{% for mart in monitors['marts'] -%}
{%- set spec = dq_monitor_spec('marts', mart) -%}
{#- one pass over the mart for its row count, null counts and means #}
{{ mart }}__counts as (
    select
        {%- for column in spec['nulls'] %}
        count(case when {{ column }} is null then 1 end) as null_{{ column }},
        {%- endfor %}
        {%- for column in spec['means'] %}
        avg({{ column }}) as mean_{{ column }},
        count({{ column }}) as measured_{{ column }},
        {%- endfor %}
        count(*) as row_count
    from {{ ref(mart) }}
),

{% endfor -%}

metrics as (
    {%- for feed in journey_feeds() %}
    {%- set relation = 'feeds.' ~ feed %}
    {%- set spec = dq_monitor_spec('feeds', feed) %}
    {%- set counts = feed ~ '__counts' %}
    {{ dq_metric_row(relation, 'records_delivered', none, none, 'delivered', 'delivered') }}
    from {{ counts }}
    union all
    {{ dq_metric_row(relation, 'rejected_share', none, none, kpi_ratio('rejected', 'delivered'), 'delivered') }}
    from {{ counts }}
    {%- for field in dq_feed_null_fields(feed) %}
    union all
    {{ dq_metric_row(relation, 'null_share', field, none, kpi_ratio('null_' ~ field, 'staged'), 'staged') }}
    from {{ counts }}
    {%- endfor %}
    {%- for field in spec['shares'] %}
    union all
    {{ dq_share_rows(
        relation, field, ref('base_' ~ feed), counts, counts ~ '.staged', feed_field_categories(feed, field),
        delivered_this_run('loaded_from') ~ ' and reject_reason is null and copy_number = 1'
    ) }}
    {%- endfor %}
    union all
    {%- endfor %}
    {%- for mart in monitors['marts'] %}
    {%- set relation = 'marts.' ~ mart %}
    {%- set spec = dq_monitor_spec('marts', mart) %}
    {%- set counts = mart ~ '__counts' %}
    {{ dq_metric_row(relation, 'row_count', none, none, 'row_count', 'row_count') }}
    from {{ counts }}
    {%- for column in spec['nulls'] %}
    union all
    {{ dq_metric_row(relation, 'null_share', column, none, kpi_ratio('null_' ~ column, 'row_count'), 'row_count') }}
    from {{ counts }}
    {%- endfor %}
    {%- for column in spec['means'] %}
    union all
    {{ dq_metric_row(relation, 'mean', column, none, 'mean_' ~ column, 'measured_' ~ column) }}
    from {{ counts }}
    {%- endfor %}
    {%- for column in spec['shares'] %}
    union all
    {{ dq_share_rows(relation, column, ref(mart), counts, counts ~ '.row_count') }}
    {%- endfor %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        as_of.as_of_date,
        metrics.monitored_relation,
        metrics.metric,
        metrics.metric_column,
        metrics.metric_category,
        metrics.metric_value,
        metrics.observed_records,
        concat_ws(
            ' ',
            metrics.monitored_relation,
            metrics.metric,
            case
                when metrics.metric_category is not null
                    then concat(metrics.metric_column, '=', metrics.metric_category)
                else metrics.metric_column
            end
        ) as metric_key
    from metrics
    cross join as_of
)

select * from final
