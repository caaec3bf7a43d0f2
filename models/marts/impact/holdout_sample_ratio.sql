{#- Sample-ratio-mismatch check of the policy's holdout split: per population and grouping, the customers in
    the holdout vs the holdout share of the policy config that decided them (each decision's config_hash, its
    share in int_impact_holdout_shares: holdout.share of the config the policy ran with), Pearson's chi-square
    with one degree of freedom. A p-value below srm_alpha flags a broken split (the hash, the salt, a filter or
    a join lost or duplicated customers of one arm), and then no randomized effect of that population can be
    trusted. Populations: 'evaluated' = every customer the policy evaluated (is_holdout is set by the hash on
    every row); 'eligible' = the randomized experiment units (would_be_decision = 'act'). The overall row of
    each population is always present (0 customers and no share before the policy has run). A group has a share
    only when all its decisions were made with configs of one share: when their configs differ in share, or a
    decision's config is not in policy.configs, there is no expected share and no test ('no holdout share'). -#}
with

first_decisions as (
    select * from {{ ref('int_impact_first_decisions') }}
),

units as (
    select * from {{ ref('int_impact_units') }}
),

holdout_shares as (
    select * from {{ ref('int_impact_holdout_shares') }}
),

parameters as (
    select * from {{ ref('int_impact_parameters') }}
),

as_of as (
    select * from {{ ref('int_as_of_date') }}
),

-- each decision group up to as_of_date (its first decision: int_impact_first_decisions) with the holdout share
-- of the config that made it (null when that config is not known)
decision_shares as (
    select
        first_decisions.*,
        holdout_shares.holdout_share
    from first_decisions
    cross join as_of
    left join holdout_shares
        on first_decisions.config_hash = holdout_shares.config_hash
    where first_decisions.decision_date <= as_of.as_of_date
),

evaluated_customers as (
    select
        customer_id,
        policy_version,
        max(case when is_holdout then 1 else 0 end) as is_holdout,
        min(holdout_share) as min_holdout_share,
        max(holdout_share) as max_holdout_share,
        max(case when holdout_share is null then 1 else 0 end) as has_unknown_share
    from decision_shares
    group by customer_id, policy_version
),

evaluated as (
    select
        'evaluated' as population,
        case when grouping(policy_version) = 0 then 'policy_version' else 'overall' end as grouping_name,
        case when grouping(policy_version) = 0 then coalesce(policy_version, '(none)') else 'all' end
            as grouping_value,
        count(distinct customer_id) as customers,
        count(distinct case when is_holdout = 1 then customer_id end) as holdout_customers,
        min(min_holdout_share) as min_holdout_share,
        max(max_holdout_share) as max_holdout_share,
        max(has_unknown_share) as has_unknown_share
    from evaluated_customers
    -- sqlfluff's DuckDB dialect cannot parse GROUPING SETS: the parse error is silenced on its line only
    group by grouping sets ((), (policy_version))  -- noqa: PRS
),

eligible_units as (
    select
        units.*,
        decision_shares.holdout_share
    from units
    left join decision_shares
        on units.decision_id = decision_shares.decision_id
    where units.method = 'randomized'
),

eligible as (
    select
        'eligible' as population,
        case
            when grouping(recommended_action) = 0 then 'action'
            when grouping(segment) = 0 then 'segment'
            when grouping(policy_version) = 0 then 'policy_version'
            else 'overall'
        end as grouping_name,
        case
            when grouping(recommended_action) = 0 then coalesce(recommended_action, '(none)')
            when grouping(segment) = 0 then coalesce(segment, '(none)')
            when grouping(policy_version) = 0 then coalesce(policy_version, '(none)')
            else 'all'
        end as grouping_value,
        count(*) as customers,
        count(case when arm = 'control' then customer_id end) as holdout_customers,
        min(holdout_share) as min_holdout_share,
        max(holdout_share) as max_holdout_share,
        max(case when holdout_share is null then 1 else 0 end) as has_unknown_share
    from eligible_units
    -- as above (GROUPING SETS)
    group by grouping sets ((), (recommended_action), (segment), (policy_version))  -- noqa: PRS
),

frame as (
    select
        'evaluated' as population,
        'overall' as grouping_name,
        'all' as grouping_value
    union all
    select
        'eligible' as population,
        'overall' as grouping_name,
        'all' as grouping_value
),

counted as (
    select * from evaluated
    union all
    select * from eligible
),

complete as (
    select
        coalesce(counted.population, frame.population) as population,
        coalesce(counted.grouping_name, frame.grouping_name) as grouping_name,
        coalesce(counted.grouping_value, frame.grouping_value) as grouping_value,
        coalesce(counted.customers, 0) as customers,
        coalesce(counted.holdout_customers, 0) as holdout_customers,
        -- the group's share: one share for all its decisions, else none
        case
            when counted.has_unknown_share = 0 and counted.min_holdout_share = counted.max_holdout_share
                then counted.min_holdout_share
        end as holdout_share
    from counted
    full outer join frame
        on counted.population = frame.population
        and counted.grouping_name = frame.grouping_name
        and counted.grouping_value = frame.grouping_value
),

tested as (
    select
        complete.*,
        parameters.srm_alpha,
        parameters.experiment_config_hash,
        complete.customers * complete.holdout_share as expected_holdout_customers,
        case
            when complete.customers > 0 and complete.holdout_share > 0 and complete.holdout_share < 1
                then
                    power(complete.holdout_customers - complete.customers * complete.holdout_share, 2)
                    / (complete.customers * complete.holdout_share)
                    + power(
                        (complete.customers - complete.holdout_customers)
                        - complete.customers * (1 - complete.holdout_share),
                        2
                    ) / (complete.customers * (1 - complete.holdout_share))
        end as chi_square,
        -- Pearson's approximation needs about 5 expected customers in each arm (false without a share)
        coalesce(complete.customers * least(complete.holdout_share, 1 - complete.holdout_share) >= 5, false)
            as is_testable
    from complete
    cross join parameters
),

final as (
    select
        cast(tested.population as {{ string_type() }}) as population,
        cast(tested.grouping_name as {{ string_type() }}) as grouping_name,
        cast(tested.grouping_value as {{ string_type() }}) as grouping_value,
        cast(tested.customers as bigint) as customers,
        cast(tested.holdout_customers as bigint) as holdout_customers,
        cast(tested.customers - tested.holdout_customers as bigint) as non_holdout_customers,
        cast(tested.holdout_share as double) as expected_holdout_share,
        cast(tested.expected_holdout_customers as double) as expected_holdout_customers,
        {{ kpi_ratio('tested.holdout_customers', 'tested.customers') }} as observed_holdout_share,
        cast(tested.chi_square as double) as chi_square,
        cast({{ chi_square_1df_p_value('tested.chi_square') }} as double) as p_value,
        cast(tested.srm_alpha as double) as srm_alpha,
        cast(
            case when tested.is_testable then {{ chi_square_1df_p_value('tested.chi_square') }} < tested.srm_alpha end
            as boolean
        ) as is_sample_ratio_mismatch,
        cast(
            case
                when tested.customers > 0 and tested.holdout_share is null then 'no holdout share'
                when not tested.is_testable then 'too few customers'
                when {{ chi_square_1df_p_value('tested.chi_square') }} < tested.srm_alpha then 'mismatch'
                else 'ok'
            end as {{ string_type() }}
        ) as status,
        cast(tested.experiment_config_hash as {{ string_type() }}) as experiment_config_hash,
        cast(as_of.as_of_date as date) as as_of_date
    from tested
    cross join as_of
)

select * from final
