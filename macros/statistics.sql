{#-
    Statistical building blocks for the impact marts (models/intermediate/impact, models/marts/impact), as SQL
    expressions so they run where the data is (DuckDB at a million customers, Spark through dbt-spark). Each
    is behind adapter.dispatch: an engine with a native function can override the portable default, which
    uses only + - * /, sqrt, exp, ln, abs and case. Pass column names or parenthesised expressions: an argument
    may be repeated several times in the generated SQL.
-#}

{#- Standard normal CDF Phi(x): Abramowitz & Stegun 26.2.17 (absolute error < 7.5e-8). -#}
{% macro normal_cdf(x) -%}
    {{ return(adapter.dispatch('normal_cdf', 'customer_journey')(x)) }}
{%- endmacro %}

{% macro default__normal_cdf(x) -%}
    (case
        when ({{ x }}) is null then null
        else
            case when ({{ x }}) >= 0 then 1.0 else 0.0 end
            + (case when ({{ x }}) >= 0 then -1.0 else 1.0 end)
            * exp(-0.5 * ({{ x }}) * ({{ x }})) / sqrt(2 * pi())
            * (1.0 / (1.0 + 0.2316419 * abs({{ x }})))
            * (0.319381530 + (1.0 / (1.0 + 0.2316419 * abs({{ x }})))
                * (-0.356563782 + (1.0 / (1.0 + 0.2316419 * abs({{ x }})))
                    * (1.781477937 + (1.0 / (1.0 + 0.2316419 * abs({{ x }})))
                        * (-1.821255978 + (1.0 / (1.0 + 0.2316419 * abs({{ x }}))) * 1.330274429))))
    end)
{%- endmacro %}


{#- Standard normal quantile Phi^-1(p) for p in (0, 1): Acklam's rational approximation (relative error
    < 1.2e-9). Meant for parameters (confidence level, power), not for millions of rows. -#}
{% macro normal_quantile(p) -%}
    {{ return(adapter.dispatch('normal_quantile', 'customer_journey')(p)) }}
{%- endmacro %}

{% macro default__normal_quantile(p) -%}
    {%- set a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716, 2.506628277459239] -%}
    {%- set b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572] -%}
    {%- set c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783] -%}
    {%- set d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416] -%}
    {%- set tail_q -%}sqrt(-2 * ln(case when ({{ p }}) < 0.5 then ({{ p }}) else 1 - ({{ p }}) end)){%- endset -%}
    {%- set tail_value -%}
        (((((({{ c[0] }} * {{ tail_q }} + {{ c[1] }}) * {{ tail_q }} + {{ c[2] }}) * {{ tail_q }} + {{ c[3] }}) * {{ tail_q }} + {{ c[4] }}) * {{ tail_q }} + {{ c[5] }})
        / (((({{ d[0] }} * {{ tail_q }} + {{ d[1] }}) * {{ tail_q }} + {{ d[2] }}) * {{ tail_q }} + {{ d[3] }}) * {{ tail_q }} + 1))
    {%- endset -%}
    {%- set central_q -%}(({{ p }}) - 0.5){%- endset -%}
    {%- set central_r -%}({{ central_q }} * {{ central_q }}){%- endset -%}
    (case
        when ({{ p }}) is null or ({{ p }}) <= 0 or ({{ p }}) >= 1 then null
        when ({{ p }}) < 0.02425 then {{ tail_value }}
        when ({{ p }}) > 1 - 0.02425 then -{{ tail_value }}
        else
            (((((({{ a[0] }} * {{ central_r }} + {{ a[1] }}) * {{ central_r }} + {{ a[2] }}) * {{ central_r }} + {{ a[3] }}) * {{ central_r }} + {{ a[4] }}) * {{ central_r }} + {{ a[5] }}) * {{ central_q }})
            / ((((({{ b[0] }} * {{ central_r }} + {{ b[1] }}) * {{ central_r }} + {{ b[2] }}) * {{ central_r }} + {{ b[3] }}) * {{ central_r }} + {{ b[4] }}) * {{ central_r }} + 1)
    end)
{%- endmacro %}


{#- Student-t quantile from the normal quantile z of the same probability and df degrees of freedom:
    Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5); within 1e-3 of the exact value for df >= 10, which
    the minimum sample per arm guarantees. A null or non-positive df gives z. -#}
{% macro t_quantile(z, df) -%}
    {{ return(adapter.dispatch('t_quantile', 'customer_journey')(z, df)) }}
{%- endmacro %}

{% macro default__t_quantile(z, df) -%}
    (case
        when ({{ df }}) is null or ({{ df }}) <= 0 then ({{ z }})
        else ({{ z }})
            + (power({{ z }}, 3) + ({{ z }})) / (4 * ({{ df }}))
            + (5 * power({{ z }}, 5) + 16 * power({{ z }}, 3) + 3 * ({{ z }})) / (96 * power({{ df }}, 2))
            + (3 * power({{ z }}, 7) + 19 * power({{ z }}, 5) + 17 * power({{ z }}, 3) - 15 * ({{ z }}))
                / (384 * power({{ df }}, 3))
            + (79 * power({{ z }}, 9) + 776 * power({{ z }}, 7) + 1482 * power({{ z }}, 5)
                - 1920 * power({{ z }}, 3) - 945 * ({{ z }})) / (92160 * power({{ df }}, 4))
    end)
{%- endmacro %}


{#- Two-sided p-value of a t statistic with df degrees of freedom: the t statistic is mapped to a normal
    deviate (Paulson's approximation, z = |t| (1 - 1/(4 df)) / sqrt(1 + t^2 / (2 df))) and p = 2 (1 - Phi(z)).
    A null df means a normal (z) statistic. -#}
{% macro t_two_sided_p_value(t, df) -%}
    {{ return(adapter.dispatch('t_two_sided_p_value', 'customer_journey')(t, df)) }}
{%- endmacro %}

{% macro default__t_two_sided_p_value(t, df) -%}
    {%- set deviate -%}
    (case
        when ({{ df }}) is null or ({{ df }}) <= 0 then abs({{ t }})
        else abs({{ t }}) * (1 - 1 / (4 * ({{ df }}))) / sqrt(1 + ({{ t }}) * ({{ t }}) / (2 * ({{ df }})))
    end)
    {%- endset -%}
    (case
        when ({{ t }}) is null then null
        else least(1.0, greatest(0.0, 2 * (1 - {{ normal_cdf(deviate) }})))
    end)
{%- endmacro %}


{#- p-value of a chi-square statistic with one degree of freedom: P(X > x) = 2 (1 - Phi(sqrt(x))), exact. -#}
{% macro chi_square_1df_p_value(statistic) -%}
    (case
        when ({{ statistic }}) is null then null
        else least(1.0, greatest(0.0, 2 * (1 - {{ normal_cdf('sqrt(' ~ statistic ~ ')') }})))
    end)
{%- endmacro %}


{#- Wilson score interval bounds for a proportion p observed on n units, with normal quantile z (the square
    root is guarded so that an engine evaluating the expression on rows where p is not a proportion cannot fail). -#}
{% macro wilson_lower(p, n, z) -%}
    (case when ({{ n }}) > 0 then
        (({{ p }}) + ({{ z }}) * ({{ z }}) / (2 * ({{ n }}))
            - ({{ z }}) * sqrt(greatest(0.0, ({{ p }}) * (1 - ({{ p }})) / ({{ n }}) + ({{ z }}) * ({{ z }}) / (4 * ({{ n }}) * ({{ n }})))))
        / (1 + ({{ z }}) * ({{ z }}) / ({{ n }}))
    end)
{%- endmacro %}

{% macro wilson_upper(p, n, z) -%}
    (case when ({{ n }}) > 0 then
        (({{ p }}) + ({{ z }}) * ({{ z }}) / (2 * ({{ n }}))
            + ({{ z }}) * sqrt(greatest(0.0, ({{ p }}) * (1 - ({{ p }})) / ({{ n }}) + ({{ z }}) * ({{ z }}) / (4 * ({{ n }}) * ({{ n }})))))
        / (1 + ({{ z }}) * ({{ z }}) / ({{ n }}))
    end)
{%- endmacro %}


{#- A scalar from a JSON text column by path ('$.a.b'), as text; null when absent. -#}
{% macro json_text_at(expression, path) -%}
    {{ return(adapter.dispatch('json_text_at', 'customer_journey')(expression, path)) }}
{%- endmacro %}

{% macro default__json_text_at(expression, path) -%}
    json_value({{ expression }}, '{{ path }}')
{%- endmacro %}

{% macro duckdb__json_text_at(expression, path) -%}
    json_extract_string(cast({{ expression }} as varchar), '{{ path }}')
{%- endmacro %}

{% macro spark__json_text_at(expression, path) -%}
    get_json_object(cast({{ expression }} as string), '{{ path }}')
{%- endmacro %}
