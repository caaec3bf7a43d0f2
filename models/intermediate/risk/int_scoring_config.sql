{#- The scoring configuration as one row: every parameter and factor weight as a column, the band table,
    and a hash of all the reference data the scores depend on (stamped on every scored row). -#}
{%- set scoring_parameters = [
    'recency_half_life_days', 'signal_window_days', 'strong_signal_threshold', 'friction_start_ratio',
    'friction_full_ratio', 'early_tenure_months', 'high_value_account_value', 'review_risk_score',
] %}

with

parameters as (
    select * from {{ ref('ref_scoring_parameters') }}
),

factors as (
    select * from {{ ref('ref_risk_factors') }}
),

bands as (
    select * from {{ ref('ref_risk_bands') }}
),

signal_sources as (
    select * from {{ ref('ref_signal_sources') }}
),

signal_types as (
    select * from {{ ref('ref_signal_types') }}
),

stages as (
    select * from {{ ref('ref_stage_slas') }}
),

risk_tiers as (
    select * from {{ ref('ref_risk_tiers') }}
),

{#- one text part per reference table: 'x:' name=value;... in a fixed order (dbt.listagg: the same text on every
    engine, so the same hash) -#}
{%- set text = string_type() -%}
{%- set config_parts = [
    ("'p:' || parameter || '=' || cast(value as " ~ text ~ ")", 'order by parameter', 'parameters'),
    ("'f:' || risk_factor || '=' || cast(weight as " ~ text ~ ")", 'order by risk_factor', 'factors'),
    (
        "'b:' || risk_band || '=' || cast(min_score as " ~ text ~ ") || '..' || cast(max_score as " ~ text ~ ")",
        'order by risk_band',
        'bands',
    ),
    ("'s:' || source || '=' || cast(source_weight as " ~ text ~ ")", 'order by source', 'signal_sources'),
    (
        "'t:' || signal_type || '=' || polarity || '/' || coalesce(resolves_signal_types, '')",
        'order by signal_type',
        'signal_types',
    ),
    (
        "'g:' || journey_stage || '=' || cast(sla_days as " ~ text ~ ") || '/' || cast(stage_risk as " ~ text ~ ")",
        'order by journey_stage',
        'stages',
    ),
    ("'r:' || risk_tier || '=' || cast(prior_risk_value as " ~ text ~ ")", 'order by risk_tier', 'risk_tiers'),
] %}

config_text as (
    {%- for expression, order_by, relation in config_parts %}
    select {{ dbt.listagg(expression, "';'", order_by) }} as part
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

pivoted as (
    select
        {%- for parameter in scoring_parameters %}
        cast(max(case when parameter = '{{ parameter }}' then value end) as double) as {{ parameter }},
        {%- endfor %}
        1 as join_key
    from parameters
),

-- The weights must sum to 1 so that risk_score stays in [0, 1]: the build stops here, naming the file and the
-- sum, rather than scoring every customer with them.
weights as (
    select
        {%- for factor in risk_factor_names() %}
        cast(coalesce(max(case when risk_factor = '{{ factor }}' then weight end), 0) as double)
            as weight_{{ factor }},
        {%- endfor %}
        1 as join_key
    from factors
    having {{ assert_true(
        'abs(sum(weight) - 1) <= 1e-9',
        "'Config seeds/ref_risk_factors.csv: the risk factor weights sum to ' || cast(sum(weight) as "
        ~ string_type() ~ ") || '; they must sum to 1 (so that risk_score stays in [0, 1])'"
    ) }}
),

final as (
    select
        {%- for parameter in scoring_parameters %}
        pivoted.{{ parameter }},
        {%- endfor %}
        {%- for factor in risk_factor_names() %}
        weights.weight_{{ factor }},
        {%- endfor %}
        (select md5({{ dbt.listagg('part', "'|'", 'order by part') }}) from config_text) as scoring_config_hash
    from pivoted
    inner join weights
        on pivoted.join_key = weights.join_key
)

select * from final
