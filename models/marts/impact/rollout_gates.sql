{#- One row per go/no-go gate of ref_rollout_gates: the value measured on this run's data, the configured
    threshold and comparator, and whether it passed. A gate whose input does not exist yet (no policy run, no
    ops.runs, too little data for an effect) is 'not measured' with measured_value and passed null: it neither
    passes nor fails. Go/no-go for widening the policy:
        select bool_and(passed) and count(*) = count(passed) as is_go from marts.rollout_gates -#}
with

gates as (
    select * from {{ ref('ref_rollout_gates') }}
),

kpi_overview as (
    select * from {{ ref('kpi_overview') }}
),

decision_log as (
    select * from {{ ref('int_impact_decision_log') }}
),

ops_runs as (
    select * from {{ ref('stg_ops__runs') }}
),

sample_ratio as (
    select * from {{ ref('holdout_sample_ratio') }}
),

treatment_effects as (
    select * from {{ ref('treatment_effects') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

current_kpis as (
    select kpi_overview.*
    from kpi_overview
    inner join as_of
        on kpi_overview.as_of_date = as_of.as_of_date
),

latest_policy_date as (
    select max(decision_date) as decision_date from decision_log
),

latest_decisions as (
    select
        count(*) as decisions,
        count(case when decision_log.decision = 'skipped_bad_data' then decision_log.decision_id end)
            as skipped_decisions
    from decision_log
    inner join latest_policy_date
        on decision_log.decision_date = latest_policy_date.decision_date
),

run_summary as (
    select
        count(*) as runs,
        count(case when status = 'failed' then run_id end) as failed_runs
    from ops_runs
),

latest_dq_run as (
    select dq_error_count
    from ops_runs
    where dq_error_count is not null
    order by started_at desc, run_id desc
    limit 1
),

measurements as (
    select
        'success_rate' as metric,
        max(success_rate) as measured_value
    from current_kpis
    union all
    select
        'override_rate' as metric,
        max(override_rate) as measured_value
    from current_kpis
    union all
    select
        'data_completeness' as metric,
        max(data_completeness) as measured_value
    from current_kpis
    union all
    select
        'skipped_bad_data_share' as metric,
        {{ kpi_ratio('skipped_decisions', 'decisions') }} as measured_value
    from latest_decisions
    union all
    select
        'run_failure_rate' as metric,
        {{ kpi_ratio('failed_runs', 'runs') }} as measured_value
    from run_summary
    union all
    select
        'dq_error_count' as metric,
        max(dq_error_count) as measured_value
    from latest_dq_run
    union all
    select
        'srm_flagged_populations' as metric,
        -- measured only once some split could be tested
        case
            when count(is_sample_ratio_mismatch) > 0
                then cast(count(case when is_sample_ratio_mismatch then population end) as double)
        end as measured_value
    from sample_ratio
    where grouping_name in ('overall', 'policy_version')
    union all
    select
        'churn_risk_effect_ci_lower' as metric,
        max(ci_lower) as measured_value
    from treatment_effects
    where
        method = 'randomized'
        and metric = 'churn_risk_delta'
        and grouping_name = 'overall'
),

evaluated as (
    select
        gates.gate,
        gates.metric,
        gates.comparator,
        gates.threshold,
        gates.description,
        measurements.measured_value,
        case
            when measurements.measured_value is null then null
            when gates.comparator = '>=' then measurements.measured_value >= gates.threshold
            when gates.comparator = '>' then measurements.measured_value > gates.threshold
            when gates.comparator = '<=' then measurements.measured_value <= gates.threshold
            when gates.comparator = '<' then measurements.measured_value < gates.threshold
            when gates.comparator = '=' then measurements.measured_value = gates.threshold
        end as passed
    from gates
    left join measurements
        on gates.metric = measurements.metric
),

final as (
    select
        cast(evaluated.gate as {{ string_type() }}) as gate,
        cast(evaluated.metric as {{ string_type() }}) as metric,
        cast(evaluated.comparator as {{ string_type() }}) as comparator,
        cast(evaluated.threshold as double) as threshold,
        cast(evaluated.measured_value as double) as measured_value,
        cast(evaluated.passed as boolean) as passed,
        cast(
            case
                when evaluated.passed is null then 'not measured'
                when evaluated.passed then 'pass'
                else 'fail'
            end as {{ string_type() }}
        ) as status,
        cast(evaluated.description as {{ string_type() }}) as description,
        cast(as_of.as_of_date as date) as as_of_date
    from evaluated
    cross join as_of
)

select * from final
