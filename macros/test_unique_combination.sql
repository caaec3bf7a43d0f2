{#- Generic test: the combination of columns is unique (no dbt_utils here: dbt deps cannot reach the hub). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as copies
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
