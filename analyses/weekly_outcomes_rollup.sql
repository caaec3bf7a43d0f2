{#- Weekly roll-up of intervention outcomes, in the style of the daily roll-up of the adoption playbook
    (seed 000: date_trunc by day, cohort, averages): per week the interventions were generated and per origin
    (feed or policy), over the last 12 weeks before as_of_date. Averages skip nulls; success_rate is over the
    interventions that have an outcome. -#}
with

intervention_outcomes as (
    select * from {{ ref('intervention_outcomes') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

recent as (
    select
        intervention_outcomes.*,
        cast({{ dbt.date_trunc('week', 'intervention_outcomes.generated_at') }} as date) as week_start
    from intervention_outcomes
    cross join as_of
    where intervention_outcomes.generated_at >= {{ dbt.dateadd('week', -12, 'as_of.as_of_date') }}
),

final as (
    select
        week_start,
        origin,
        count(*) as interventions,
        count(case when not is_pending then intervention_id end) as with_outcome,
        avg(case when is_success then 1.0 when not is_pending then 0.0 end) as success_rate,
        avg(case when requires_human_approval then 1.0 else 0.0 end) as human_approval_rate,
        avg(resolution_time_days) as avg_resolution_days,
        avg(csat_delta) as avg_csat_delta,
        avg(churn_risk_delta) as avg_churn_risk_delta,
        sum(estimated_revenue_saved) as revenue_saved,
        sum(intervention_cost) as cost
    from recent
    group by week_start, origin
)

select * from final
order by week_start, origin
