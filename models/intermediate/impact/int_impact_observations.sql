{#- One row per experiment unit (int_impact_units) and outcome metric (ref_impact_metrics), with the unit's
    measured value (null when it cannot be measured yet or at all):
      churn_risk_delta  follow-up risk score - baseline risk score (both from marts.customer_risk_history);
                        null until a follow-up score exists
      success           1.0 when the risk score fell by at least success_min_risk_drop, else 0.0 (same follow-up)
      csat_delta        csat_delta of the outcome of the unit's intervention; null for control units and for
                        interventions without an outcome
      revenue_saved     estimated_revenue_saved of that outcome; likewise null for control units -#}
with

units as (
    select * from {{ ref('int_impact_units') }}
),

impact_metrics as (
    select * from {{ ref('ref_impact_metrics') }}
),

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

unit_values as (
    select
        units.*,
        units.followup_risk_score - units.baseline_risk_score as risk_score_change,
        {#- the arm test sits here, not in the join condition: in the ON clause it turned the hash join into a
            nested-loop join (103 s at 1M customers instead of 2 s) -#}
        cast(case when units.arm = 'treated' then intervention_outcomes.csat_delta end as double) as csat_delta,
        cast(case when units.arm = 'treated' then intervention_outcomes.estimated_revenue_saved end as double)
            as revenue_saved,
        parameters.success_min_risk_drop
    from units
    cross join parameters
    left join intervention_outcomes
        on units.intervention_id = intervention_outcomes.intervention_id
),

final as (
    select
        unit_values.method,
        unit_values.customer_id,
        unit_values.arm,
        unit_values.stratum,
        unit_values.recommended_action,
        unit_values.segment,
        unit_values.policy_version,
        impact_metrics.metric,
        cast(
            case impact_metrics.metric
                when 'churn_risk_delta' then unit_values.risk_score_change
                when 'success'
                    then
                        case
                            when unit_values.risk_score_change is null then null
                            when -unit_values.risk_score_change >= unit_values.success_min_risk_drop then 1.0
                            else 0.0
                        end
                when 'csat_delta' then unit_values.csat_delta
                when 'revenue_saved' then unit_values.revenue_saved
            end as double
        ) as metric_value
    from unit_values
    cross join impact_metrics
)

select * from final
