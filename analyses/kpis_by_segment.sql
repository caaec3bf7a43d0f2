{#- KPIs by customer segment, with an "all segments" line re-aggregated the right way: sum the numerators and
    denominators, then divide (never average the rates). Run: dbt compile -s kpis_by_segment, then execute the
    compiled SQL (target/compiled/.../analyses/kpis_by_segment.sql) in DuckDB. -#}
with

kpi_by_segment as (
    select * from {{ ref('kpi_by_segment') }}
),

per_segment as (
    select
        segment_label as segment,
        interventions_total,
        interventions_with_outcome,
        pending_interventions,
        successful_interventions,
        success_rate,
        override_rate,
        human_approval_rate,
        avg_resolution_days,
        revenue_saved,
        total_cost,
        roi,
        treated_customers,
        baseline_customers
    from kpi_by_segment
),

all_segments as (
    select
        'All segments' as segment,
        sum(interventions_total) as interventions_total,
        sum(interventions_with_outcome) as interventions_with_outcome,
        sum(pending_interventions) as pending_interventions,
        sum(successful_interventions) as successful_interventions,
        sum(successful_interventions) * 1.0 / nullif(sum(interventions_with_outcome), 0) as success_rate,
        sum(overridden_interventions) * 1.0 / nullif(sum(interventions_total), 0) as override_rate,
        sum(approval_required_interventions) * 1.0 / nullif(sum(interventions_total), 0) as human_approval_rate,
        sum(resolution_days_total) / nullif(sum(resolutions_measured), 0) as avg_resolution_days,
        sum(revenue_saved) as revenue_saved,
        sum(total_cost) as total_cost,
        sum(net_value) / nullif(sum(total_cost), 0) as roi,
        sum(treated_customers) as treated_customers,
        sum(baseline_customers) as baseline_customers
    from kpi_by_segment
),

final as (
    select * from per_segment
    union all
    select * from all_segments
)

select * from final
order by segment = 'All segments' asc, interventions_total desc, segment asc
