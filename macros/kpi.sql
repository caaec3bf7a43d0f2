{#-
    KPI building blocks shared by the kpi_* marts, so every grouping computes the same KPIs the same way
    (definitions: DESIGN.md "KPI definitions"). Every rate comes with its numerator and denominator columns,
    so an analyst can re-aggregate it correctly (sum the parts, then divide).
-#}

{#- Aggregates over rows of int_intervention_outcomes; put last in a select (no trailing comma). Rows from an outer join
    with no intervention (intervention_id null) count as nothing. -#}
{% macro kpi_intervention_aggregates() %}
        count(intervention_id) as interventions_total,
        count(case when origin = 'feed' then intervention_id end) as feed_interventions,
        count(case when origin = 'policy' then intervention_id end) as policy_interventions,
        count(case when not is_pending then intervention_id end) as interventions_with_outcome,
        count(case when is_pending then intervention_id end) as pending_interventions,
        count(case when is_overdue then intervention_id end) as overdue_interventions,
        count(case when is_success then intervention_id end) as successful_interventions,
        count(case when outcome_class = 'neutral' then intervention_id end) as neutral_outcomes,
        count(case when outcome_class = 'failure' then intervention_id end) as failed_interventions,
        count(case when human_override then intervention_id end) as overridden_interventions,
        count(case when requires_human_approval then intervention_id end) as approval_required_interventions,
        count(case when approval_status = 'pending' then intervention_id end) as pending_approvals,
        sum(resolution_time_days) as resolution_days_total,
        count(resolution_time_days) as resolutions_measured,
        sum(csat_delta) as csat_delta_total,
        count(csat_delta) as csat_deltas_measured,
        sum(churn_risk_delta) as churn_risk_delta_total,
        count(churn_risk_delta) as churn_risk_deltas_measured,
        sum(estimated_revenue_saved) as revenue_saved,
        count(evaluation_latency_ms) as latencies_measured,
        {{ percentile_continuous('evaluation_latency_ms', 0.5) }} as p50_evaluation_latency_ms,
        {{ percentile_continuous('evaluation_latency_ms', 0.95) }} as p95_evaluation_latency_ms,
        sum(action_cost) as action_cost,
        sum(human_review_cost) as human_review_cost,
        count(distinct customer_id) as treated_customers
{%- endmacro %}


{#- The typed KPI columns (counts, rates with their parts, costs and ROI) from a CTE holding
    kpi_intervention_aggregates(). Each line ends with a comma. -#}
{% macro kpi_intervention_columns(relation) %}
        cast({{ relation }}.interventions_total as bigint) as interventions_total,
        cast({{ relation }}.feed_interventions as bigint) as feed_interventions,
        cast({{ relation }}.policy_interventions as bigint) as policy_interventions,
        cast({{ relation }}.interventions_with_outcome as bigint) as interventions_with_outcome,
        cast({{ relation }}.pending_interventions as bigint) as pending_interventions,
        cast({{ relation }}.overdue_interventions as bigint) as overdue_interventions,
        cast({{ relation }}.successful_interventions as bigint) as successful_interventions,
        cast({{ relation }}.neutral_outcomes as bigint) as neutral_outcomes,
        cast({{ relation }}.failed_interventions as bigint) as failed_interventions,
        {{ kpi_ratio(relation ~ '.successful_interventions', relation ~ '.interventions_with_outcome') }}
            as success_rate,
        cast({{ relation }}.overridden_interventions as bigint) as overridden_interventions,
        {{ kpi_ratio(relation ~ '.overridden_interventions', relation ~ '.interventions_total') }} as override_rate,
        cast({{ relation }}.approval_required_interventions as bigint) as approval_required_interventions,
        {{ kpi_ratio(relation ~ '.approval_required_interventions', relation ~ '.interventions_total') }}
            as human_approval_rate,
        cast({{ relation }}.pending_approvals as bigint) as pending_approvals,
        cast(coalesce({{ relation }}.resolution_days_total, 0) as double) as resolution_days_total,
        cast({{ relation }}.resolutions_measured as bigint) as resolutions_measured,
        {{ kpi_ratio(relation ~ '.resolution_days_total', relation ~ '.resolutions_measured') }} as avg_resolution_days,
        cast(coalesce({{ relation }}.csat_delta_total, 0) as double) as csat_delta_total,
        cast({{ relation }}.csat_deltas_measured as bigint) as csat_deltas_measured,
        {{ kpi_ratio(relation ~ '.csat_delta_total', relation ~ '.csat_deltas_measured') }} as avg_csat_delta,
        cast(coalesce({{ relation }}.churn_risk_delta_total, 0) as double) as churn_risk_delta_total,
        cast({{ relation }}.churn_risk_deltas_measured as bigint) as churn_risk_deltas_measured,
        {{ kpi_ratio(relation ~ '.churn_risk_delta_total', relation ~ '.churn_risk_deltas_measured') }}
            as avg_churn_risk_delta,
        cast(coalesce({{ relation }}.revenue_saved, 0) as decimal(18, 2)) as revenue_saved,
        cast({{ relation }}.latencies_measured as bigint) as latencies_measured,
        cast({{ relation }}.p50_evaluation_latency_ms as double) as p50_evaluation_latency_ms,
        cast({{ relation }}.p95_evaluation_latency_ms as double) as p95_evaluation_latency_ms,
        cast(coalesce({{ relation }}.action_cost, 0) as decimal(18, 2)) as action_cost,
        cast(coalesce({{ relation }}.human_review_cost, 0) as decimal(18, 2)) as human_review_cost,
        cast(
            coalesce({{ relation }}.action_cost, 0) + coalesce({{ relation }}.human_review_cost, 0) as decimal(18, 2)
        ) as total_cost,
        cast(
            coalesce({{ relation }}.revenue_saved, 0)
            - coalesce({{ relation }}.action_cost, 0)
            - coalesce({{ relation }}.human_review_cost, 0)
            as decimal(18, 2)
        ) as net_value,
        {{ kpi_ratio(
            'coalesce(' ~ relation ~ '.revenue_saved, 0) - coalesce(' ~ relation ~ '.action_cost, 0) - coalesce('
                ~ relation ~ '.human_review_cost, 0)',
            'coalesce(' ~ relation ~ '.action_cost, 0) + coalesce(' ~ relation ~ '.human_review_cost, 0)'
        ) }} as roi,
{%- endmacro %}


{#- numerator / denominator as a double; null when the denominator is 0 or null (no basis for a rate). -#}
{% macro kpi_ratio(numerator, denominator) -%}
    cast(case when ({{ denominator }}) > 0 then cast({{ numerator }} as double) / ({{ denominator }}) end as double)
{%- endmacro %}


{#- Continuous (interpolating) percentile of an expression, as an aggregate. fraction in [0, 1]. -#}
{% macro percentile_continuous(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_continuous', 'customer_journey')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_continuous(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_continuous(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_continuous(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}


{#- Number of elements of an array/list column. -#}
{% macro list_size(expression) -%}
    {{ return(adapter.dispatch('list_size', 'customer_journey')(expression)) }}
{%- endmacro %}

{% macro default__list_size(expression) -%}
    cardinality({{ expression }})
{%- endmacro %}

{% macro duckdb__list_size(expression) -%}
    len({{ expression }})
{%- endmacro %}

{% macro spark__list_size(expression) -%}
    size({{ expression }})
{%- endmacro %}
