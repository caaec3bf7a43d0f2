{#- Generic test: the columns are the relation's primary key (no key column null, no two rows with the same key),
    in one query instead of a unique and a not_null node.

    as_of_date_column (optional): test only the rows of that column on or after this build's as_of_date. For the
    history tables and the views over them (a row per customer per run): the build writes only those rows, and
    every earlier date was tested when it was written, so the test's cost does not grow with the history. -#}
{% test primary_key(model, columns, as_of_date_column=none) %}
select
    {{ columns | join(', ') }},
    count(*) as copies
from {{ model }}
{%- if as_of_date_column %}
where {{ as_of_date_column }} >= (select as_of_date from {{ ref('int_as_of_date') }})
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- for column in columns %}
    or {{ column }} is null
{%- endfor %}
{% endtest %}
