{#- Generic test: per value of `by`, the sum of a column equals the sum of `field` in another model (e.g. KPIs
    grouped by segment add up to the overview). Fails with the groups where the two differ. -#}
{% test column_sum_matches(model, column_name, to, field, by) %}
with

grouped as (
    select
        {{ by }} as group_value,
        sum({{ column_name }}) as model_total
    from {{ model }}
    group by {{ by }}
),

compared as (
    select
        {{ by }} as group_value,
        sum({{ field }}) as compare_total
    from {{ to }}
    group by {{ by }}
),

final as (
    select
        grouped.group_value,
        grouped.model_total,
        compared.compare_total
    from grouped
    left join compared
        on grouped.group_value = compared.group_value
    where grouped.model_total <> compared.compare_total
        or (grouped.model_total is null) <> (compared.compare_total is null)
)

select * from final
{% endtest %}
