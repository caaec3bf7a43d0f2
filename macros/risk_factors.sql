{#- The risk factors the scoring model computes, in reporting order. Their weights live in
    seeds/ref_risk_factors.csv; a test checks the CSV names exactly these factors. -#}
{% macro risk_factor_names() -%}
    {{ return([
        'signal_pressure',
        'time_in_state_friction',
        'invalid_transition',
        'early_tenure',
        'prior_risk_tier',
        'stage_risk',
    ]) }}
{%- endmacro %}

{#- Clamp an expression into [low, high]. -#}
{% macro clamp(expression, low=0, high=1) -%}
    least(greatest({{ expression }}, {{ low }}), {{ high }})
{%- endmacro %}
