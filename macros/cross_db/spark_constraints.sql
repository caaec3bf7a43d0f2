{#- Enforced contract constraints on Spark. DuckDB checks a table model's not_null and check constraints as it
    writes the table. dbt-spark adds them with ALTER TABLE only for delta tables (and its default assumes delta
    when no file_format is set, which a plain session's parquet tables refuse); on other formats nothing would
    check them. This override checks them all with one query after the table is written, on any file format:
    a row that breaks one fails the model with a line naming the table and the column (or the expression), as
    DuckDB's constraint error does. The table stays written (Spark has no transaction to roll back); the run
    fails before anything reads it. Not run here (no pyspark): see docs/spark.md. -#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if not config.get('contract').enforced -%}
        {{ return('') }}
    {%- endif -%}
    {%- set checks = [] -%}
    {%- for column in model.columns.values() -%}
        {%- for constraint in column.get('constraints') or [] -%}
            {%- if constraint.type == 'not_null' -%}
                {%- do checks.append(('the not_null constraint on ' ~ column.name, column.name ~ ' is not null')) -%}
            {%- elif constraint.type == 'check' -%}
                {%- do checks.append(('the check constraint on ' ~ column.name ~ ': ' ~ constraint.expression, constraint.expression)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for constraint in model.get('constraints') or [] -%}
        {%- if constraint.type == 'check' -%}
            {%- do checks.append(('the check constraint ' ~ constraint.expression, constraint.expression)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if checks -%}
        {%- set query -%}
            select
            {%- for label, expression in checks %}
                sum(case when not ({{ expression }}) then 1 else 0 end) as broken_{{ loop.index }}
                {{- ',' if not loop.last }}
            {%- endfor %}
            from {{ relation }}
        {%- endset -%}
        {%- set counts = run_query(query).rows[0] -%}
        {%- for label, expression in checks -%}
            {%- if (counts[loop.index0] or 0) > 0 -%}
                {{ exceptions.raise_compiler_error(
                    'Constraint failed: ' ~ counts[loop.index0] ~ ' rows of ' ~ model.schema ~ '.' ~ model.alias
                    ~ ' break ' ~ label
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
