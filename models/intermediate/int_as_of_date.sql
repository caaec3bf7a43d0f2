{#- The one business date of this run: the run setting as_of_date (dbt var, else JOURNEY_AS_OF_DATE), else the
    latest date seen in the inputs, so a rerun on the same files gives the same answer. Nothing reads the wall
    clock. -#}
{%- set as_of = journey_setting('as_of_date') %}
with

journey_log as (
    select * from {{ ref('stg_journey_state_log') }}
),

signals as (
    select * from {{ ref('stg_signals') }}
),

interventions as (
    select * from {{ ref('stg_interventions') }}
),

outcomes as (
    select * from {{ ref('stg_outcomes') }}
),

input_dates as (
    select max(state_entered_at) as latest_date from journey_log
    union all
    select max(detected_at) from signals
    union all
    select max(generated_at) from interventions
    union all
    select max(measured_at) from outcomes
),

final as (
    select
        -- always an aggregate, so this is one row whether or not the date is given
        cast(
            coalesce({{ "cast(" ~ sql_string(as_of) ~ " as date)" if as_of else 'null' }}, max(latest_date))
            as date
        ) as as_of_date,
        {{ 'true' if as_of else 'false' }} as is_as_of_date_given
    from input_dates
)

select * from final
