{#- When do people disagree with the recommendations? Every intervention known on as_of_date (feed and policy,
    also the policy's interventions a reviewer rejected, which never happened), grouped five ways (grouping_name
    'all', 'recommended_action', 'confidence_bin', 'approval_reason', 'segment'): the outcomes with a human
    override and their rate with a Wilson interval, and the review decisions on the policy's interventions
    (approved, rejected, awaiting review) with the rejection rate. An intervention needing approval for several
    reasons counts under each; one that needed approval with no recorded reason (every feed intervention) is
    'not recorded', one that needed none 'not required'. The 'all' row, every action of ref_actions and every
    confidence bin are rows also when empty. Formulas: docs/learning-outcomes.md. -#}

with

intervention_outcomes as (
    select * from {{ ref('int_intervention_outcomes') }}
),

policy_interventions as (
    select * from {{ ref('stg_policy__interventions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

policy_decisions as (
    select * from {{ ref('int_learning_policy_decisions') }}
),

actions as (
    select * from {{ ref('ref_actions') }}
),

confidence_bins as (
    select * from {{ ref('int_learning_confidence_bins') }}
),

learning_parameters as (
    select * from {{ ref('int_learning_parameters') }}
),

impact_parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

-- the interventions that happened (int_intervention_outcomes) and the rejected ones, which did not
known_interventions as (
    select
        intervention_id,
        origin,
        recommended_action,
        confidence,
        segment,
        requires_human_approval,
        approval_status,
        not is_pending as has_outcome,
        coalesce(human_override, false) as is_overridden
    from intervention_outcomes

    union all

    select
        policy_interventions.intervention_id,
        'policy' as origin,
        policy_interventions.recommended_action,
        policy_interventions.confidence,
        customers.segment,
        policy_interventions.requires_human_approval,
        policy_interventions.approval_status,
        false as has_outcome,
        false as is_overridden
    from policy_interventions
    cross join as_of
    left join customers
        on policy_interventions.customer_id = customers.customer_id
    where
        policy_interventions.approval_status = 'rejected'
        and policy_interventions.generated_at <= as_of.as_of_date
),

binned as (
    select
        known_interventions.*,
        coalesce(confidence_bins.confidence_bin, 'unknown') as confidence_bin
    from known_interventions
    cross join learning_parameters
    left join confidence_bins
        on
        {{ learning_confidence_bin('known_interventions.confidence', 'learning_parameters.confidence_bin_width') }}
        = confidence_bins.bin_index
),

approval_reasons as (
    select
        intervention_id,
        {{ unnest_list('approval_reasons') }} as approval_reason
    from policy_decisions
),

reasoned as (
    select
        binned.*,
        coalesce(
            approval_reasons.approval_reason,
            case when binned.requires_human_approval then 'not recorded' else 'not required' end
        ) as approval_reason
    from binned
    left join approval_reasons
        on binned.intervention_id = approval_reasons.intervention_id
),

grouped_rows as (
    select
        'all' as grouping_name,
        'all' as grouping_value,
        binned.*
    from binned

    union all

    select
        'recommended_action' as grouping_name,
        coalesce(recommended_action, 'unknown') as grouping_value,
        binned.*
    from binned

    union all

    select
        'confidence_bin' as grouping_name,
        confidence_bin as grouping_value,
        binned.*
    from binned

    union all

    select
        'segment' as grouping_name,
        coalesce(segment, 'unknown') as grouping_value,
        binned.*
    from binned

    union all

    select
        'approval_reason' as grouping_name,
        approval_reason as grouping_value,
        intervention_id,
        origin,
        recommended_action,
        confidence,
        segment,
        requires_human_approval,
        approval_status,
        has_outcome,
        is_overridden,
        confidence_bin
    from reasoned
),

counted as (
    select
        grouping_name,
        grouping_value,
        count(*) as interventions,
        count(case when has_outcome then 1 end) as recorded_outcomes,
        count(case when has_outcome and is_overridden then 1 end) as human_overrides,
        count(case when origin = 'policy' then 1 end) as policy_interventions,
        count(case when requires_human_approval then 1 end) as approval_required,
        count(case when approval_status = 'approved' then 1 end) as approved,
        count(case when approval_status = 'rejected' then 1 end) as rejected,
        count(case when approval_status = 'pending' then 1 end) as awaiting_review
    from grouped_rows
    group by grouping_name, grouping_value
),

-- the groups that are rows also when empty
frame as (
    select
        'all' as grouping_name,
        'all' as grouping_value

    union all

    select
        'recommended_action' as grouping_name,
        recommended_action as grouping_value
    from actions

    union all

    select
        'confidence_bin' as grouping_name,
        confidence_bin as grouping_value
    from confidence_bins
),

complete as (
    select
        coalesce(counted.grouping_name, frame.grouping_name) as grouping_name,
        coalesce(counted.grouping_value, frame.grouping_value) as grouping_value,
        coalesce(counted.interventions, 0) as interventions,
        coalesce(counted.recorded_outcomes, 0) as recorded_outcomes,
        coalesce(counted.human_overrides, 0) as human_overrides,
        coalesce(counted.policy_interventions, 0) as policy_interventions,
        coalesce(counted.approval_required, 0) as approval_required,
        coalesce(counted.approved, 0) as approved,
        coalesce(counted.rejected, 0) as rejected,
        coalesce(counted.awaiting_review, 0) as awaiting_review
    from counted
    full outer join frame
        on
        counted.grouping_name = frame.grouping_name
        and counted.grouping_value = frame.grouping_value
),

rated as (
    select
        complete.*,
        impact_parameters.z_confidence,
        impact_parameters.confidence_level,
        learning_parameters.min_outcomes_per_bin,
        learning_parameters.learning_config_hash,
        complete.approved + complete.rejected as reviewed,
        {{ kpi_ratio('complete.human_overrides', 'complete.recorded_outcomes') }} as override_rate,
        {{ kpi_ratio('complete.rejected', 'complete.approved + complete.rejected') }} as rejection_rate,
        case
            when
                complete.recorded_outcomes >= learning_parameters.min_outcomes_per_bin
                or complete.approved + complete.rejected >= learning_parameters.min_outcomes_per_bin
                then 'measured'
            else 'insufficient data'
        end as status
    from complete
    cross join impact_parameters
    cross join learning_parameters
),

final as (
    select
        cast(rated.grouping_name as {{ string_type() }}) as grouping_name,
        cast(rated.grouping_value as {{ string_type() }}) as grouping_value,
        cast(rated.interventions as bigint) as interventions,
        cast(rated.recorded_outcomes as bigint) as recorded_outcomes,
        cast(rated.human_overrides as bigint) as human_overrides,
        cast(rated.override_rate as double) as override_rate,
        cast({{ wilson_lower('rated.override_rate', 'rated.recorded_outcomes', 'rated.z_confidence') }} as double)
            as override_rate_ci_lower,
        cast({{ wilson_upper('rated.override_rate', 'rated.recorded_outcomes', 'rated.z_confidence') }} as double)
            as override_rate_ci_upper,
        cast(rated.policy_interventions as bigint) as policy_interventions,
        cast(rated.approval_required as bigint) as approval_required,
        cast(rated.approved as bigint) as approved,
        cast(rated.rejected as bigint) as rejected,
        cast(rated.awaiting_review as bigint) as awaiting_review,
        cast(rated.rejection_rate as double) as rejection_rate,
        cast({{ wilson_lower('rated.rejection_rate', 'rated.reviewed', 'rated.z_confidence') }} as double)
            as rejection_rate_ci_lower,
        cast({{ wilson_upper('rated.rejection_rate', 'rated.reviewed', 'rated.z_confidence') }} as double)
            as rejection_rate_ci_upper,
        cast(rated.confidence_level as double) as confidence_level,
        cast(rated.status as {{ string_type() }}) as status,
        cast(
            case
                when rated.status = 'insufficient data'
                    then
                        'insufficient data: ' || cast(rated.recorded_outcomes as {{ string_type() }})
                        || ' recorded outcomes and ' || cast(rated.reviewed as {{ string_type() }})
                        || ' review decisions, fewer than the '
                        || cast(rated.min_outcomes_per_bin as {{ string_type() }}) || ' needed'
                else
                    'people overrode ' || cast(rated.human_overrides as {{ string_type() }}) || ' of '
                    || cast(rated.recorded_outcomes as {{ string_type() }}) || ' recorded outcomes'
                    || coalesce(' (' || {{ learning_percent_text('rated.override_rate') }} || ')', '')
                    || ' and rejected ' || cast(rated.rejected as {{ string_type() }}) || ' of '
                    || cast(rated.reviewed as {{ string_type() }}) || ' reviewed interventions'
                    || coalesce(' (' || {{ learning_percent_text('rated.rejection_rate') }} || ')', '')
            end as {{ string_type() }}
        ) as conclusion,
        cast(as_of.as_of_date as date) as as_of_date,
        cast(rated.learning_config_hash as {{ string_type() }}) as learning_config_hash
    from rated
    cross join as_of
)

select * from final
