{#- The volume and drift metrics of this run, one row per metric (what is measured: var `dq_monitors`,
    dbt_project.yml). Per feed, on this run's delivery (macros/dq_monitors.sql delivered_this_run): records
    delivered, rejected share, the null share of each optional field and the share of each value of the fields
    listed; per mart listed, on the whole table: row count, shares, means, null shares. Incremental: a run adds
    the rows of its as_of_date (the history quality.dq_metric_anomalies judges) and a rerun of a date replaces
    them. A run that does not publish leaves none behind: bad data never becomes the baseline. -#}
{{
    config(
        materialized='incremental',
        unique_key='as_of_date',
        incremental_strategy=replace_keys_strategy(),
        partition_by=replace_keys_partition('as_of_date'),
        on_schema_change='append_new_columns',
    )
}}

{%- set monitors = var('dq_monitors') %}

with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

{% for feed in journey_feeds() -%}
{{ feed }}__delivered as (
    select * from {{ ref('base_' ~ feed) }}
    where {{ delivered_this_run('loaded_from') }}
),

{{ feed }}__staged as (
    select * from {{ feed }}__delivered
    where reject_reason is null and copy_number = 1
),

{{ feed }}__all_staged as (
    select * from {{ ref('stg_' ~ feed) }}
),

{% endfor -%}

{% for mart in monitors['marts'] -%}
{{ mart }} as (
    select * from {{ ref(mart) }}
),

{% endfor -%}

metrics as (
    {%- for feed in journey_feeds() %}
    {%- set relation = 'feeds.' ~ feed %}
    {%- set spec = dq_monitor_spec('feeds', feed) %}
    {{ dq_metric_row(relation, 'records_delivered', none, none, 'count(*)', 'count(*)') }}
    from {{ feed }}__delivered
    union all
    {{ dq_metric_row(
        relation, 'rejected_share', none, none,
        kpi_ratio('count(case when reject_reason is not null then 1 end)', 'count(*)'), 'count(*)'
    ) }}
    from {{ feed }}__delivered
    {%- for field in feed_optional_fields(feed) + spec['nulls'] %}
    union all
    {{ dq_metric_row(
        relation, 'null_share', field, none,
        kpi_ratio('count(case when ' ~ field ~ ' is null then 1 end)', 'count(*)'), 'count(*)'
    ) }}
    from {{ feed }}__staged
    {%- endfor %}
    {%- for field in spec['shares'] %}
    union all
    {{ dq_share_rows(relation, field, feed ~ '__staged', feed ~ '__all_staged') }}
    {%- endfor %}
    union all
    {%- endfor %}
    {%- for mart in monitors['marts'] %}
    {%- set relation = 'marts.' ~ mart %}
    {%- set spec = dq_monitor_spec('marts', mart) %}
    {{ dq_metric_row(relation, 'row_count', none, none, 'count(*)', 'count(*)') }}
    from {{ mart }}
    {%- for column in spec['nulls'] %}
    union all
    {{ dq_metric_row(
        relation, 'null_share', column, none,
        kpi_ratio('count(case when ' ~ column ~ ' is null then 1 end)', 'count(*)'), 'count(*)'
    ) }}
    from {{ mart }}
    {%- endfor %}
    {%- for column in spec['means'] %}
    union all
    {{ dq_metric_row(relation, 'mean', column, none, 'avg(' ~ column ~ ')', 'count(' ~ column ~ ')') }}
    from {{ mart }}
    {%- endfor %}
    {%- for column in spec['shares'] %}
    union all
    {{ dq_share_rows(relation, column, mart, mart) }}
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
