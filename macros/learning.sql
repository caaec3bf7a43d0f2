{#-
    Building blocks of the learning marts (models/marts/learning, docs/learning-outcomes.md), as portable SQL
    expressions. The Wilson interval of a proportion is the one of macros/statistics.sql (wilson_lower,
    wilson_upper), not repeated here. Pass column names or parenthesised expressions: an argument may be repeated.
-#}

{#- A ratio of doubles on a grid of `width` (a confidence over a bin width, a floor over the candidate step) is
    rounded to 9 decimals before it is floored: 0.6 / 0.1 is 5.999999999999999 in binary floating point, and 0.6
    belongs to the bin that starts at 0.6. 9 decimals, as everywhere else the project compares doubles. -#}
{% macro learning_grid_ratio(value, width) -%}
    round(({{ value }}) / ({{ width }}), 9)
{%- endmacro %}


{#- Number of confidence bins of width `width` covering [0, 1]: the last one may be narrower when the width does
    not divide 1, and it includes 1. -#}
{% macro learning_bin_count(width) -%}
    cast(ceil({{ learning_grid_ratio('1', width) }}) as integer)
{%- endmacro %}


{#- The 0-based bin of a confidence in [0, 1]: bin k holds [k * width, (k + 1) * width); 1 falls in the last bin.
    Null for a null confidence. -#}
{% macro learning_confidence_bin(confidence, width) -%}
    cast(
        least(floor({{ learning_grid_ratio(confidence, width) }}), {{ learning_bin_count(width) }} - 1)
        as integer
    )
{%- endmacro %}


{#- A number of the grid as the text of a label ('0.4'): rounded to 9 decimals so 3 * 0.1 reads 0.3. -#}
{% macro learning_grid_text(value) -%}
    cast(round({{ value }}, 9) as {{ string_type() }})
{%- endmacro %}


{#- The integers 0 .. 10^places - 1 as a relation with one column `step` (a portable series: a cross join of
    digits, no engine's generate_series). Wide enough for any grid of int_learning_parameters down to a width of
    1e-4 at the default 4 places. -#}
{% macro learning_integer_steps(places=4) -%}
    (
        select
            {% for place in range(places) -%}
            digits_{{ place }}.digit * {{ 10 ** place }}{{ ' + ' if not loop.last }}
            {%- endfor %} as step
        from
            {%- for place in range(places) %}
            (
                {%- for digit in range(10) %}
                select {{ digit }} as digit{{ ' union all' if not loop.last }}
                {%- endfor %}
            ) as digits_{{ place }}{{ ',' if not loop.last }}
            {%- endfor %}
    )
{%- endmacro %}


{#- Half-width of the normal-approximation interval of a mean: z * sd / sqrt(n); null below two values (no sample
    standard deviation). -#}
{% macro learning_mean_half_width(standard_deviation, n, z) -%}
    (case when ({{ n }}) >= 2 then ({{ z }}) * ({{ standard_deviation }}) / sqrt({{ n }}) end)
{%- endmacro %}


{#- Sample variance from a count, a sum and a sum of squares (null below two values, never negative). -#}
{% macro learning_variance_from_sums(n, total, total_of_squares) -%}
    (case
        when ({{ n }}) >= 2
            then greatest(
                0.0,
                (({{ total_of_squares }}) - ({{ total }}) * ({{ total }}) / ({{ n }})) / (({{ n }}) - 1)
            )
    end)
{%- endmacro %}


{#- True when an interval [lower, upper] of an effect lies wholly on the harmful side of 0 for a metric whose
    better_direction is 'lower' or 'higher'; false when it does not, or when there is no interval. -#}
{% macro learning_interval_is_harmful(lower, upper, better_direction) -%}
    coalesce(
        (({{ better_direction }}) = 'lower' and ({{ lower }}) > 0)
        or (({{ better_direction }}) = 'higher' and ({{ upper }}) < 0),
        false
    )
{%- endmacro %}


{#- A proportion as a percentage text with no decimals ('67 %'), for conclusions. -#}
{% macro learning_percent_text(proportion) -%}
    cast(cast(round(({{ proportion }}) * 100) as integer) as {{ string_type() }}) || ' %'
{%- endmacro %}
