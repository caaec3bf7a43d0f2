{#- The KPI configuration as one row: the parameters of ref_kpi_parameters as columns, and a hash of every
    reference table the outcome and KPI figures depend on (parameters, action costs, outcome classes), so each
    output row says which configuration produced it. -#}
with

kpi_parameters as (
    select * from {{ ref('ref_kpi_parameters') }}
),

actions as (
    select * from {{ ref('ref_actions') }}
),

outcome_types as (
    select * from {{ ref('ref_outcome_types') }}
),

config_lines as (
    select
        'kpi_parameter' as config_table,
        parameter || '=' || cast(value as {{ string_type() }}) as config_line
    from kpi_parameters

    union all

    select
        'action_cost' as config_table,
        recommended_action || '=' || cast(unit_cost as {{ string_type() }}) as config_line
    from actions

    union all

    select
        'outcome_type' as config_table,
        outcome || '=' || outcome_class || '/' || cast(is_success as {{ string_type() }}) as config_line
    from outcome_types
),

config_hash as (
    select
        {{ dbt.hash(dbt.listagg(
            "config_table || ':' || config_line", sql_string('\\n'), "order by config_table, config_line"
        )) }}
            as kpi_config_hash
    from config_lines
),

pivoted as (
    select
        max(case when parameter = 'human_review_cost' then cast(value as double) end) as human_review_cost,
        max(case when parameter = 'outcome_overdue_days' then cast(value as integer) end) as outcome_overdue_days
    from kpi_parameters
),

final as (
    select
        pivoted.human_review_cost,
        pivoted.outcome_overdue_days,
        config_hash.kpi_config_hash
    from pivoted
    cross join config_hash
)

select * from final
