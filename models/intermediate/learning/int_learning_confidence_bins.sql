{#- The confidence bins of the learning marts, one row per bin: bin k (bin_order k + 1) holds confidence in
    [k * width, (k + 1) * width), the last bin includes 1 (width: confidence_bin_width of
    int_learning_parameters). The frame of marts.confidence_calibration and marts.override_analysis, so a bin
    with no intervention is still a row. -#}
with

parameters as (
    select * from {{ ref('int_learning_parameters') }}
),

steps as (
    select * from {{ learning_integer_steps() }} as integer_steps
),

bins as (
    select
        steps.step as bin_index,
        steps.step * parameters.confidence_bin_width as bin_lower,
        least(1.0, (steps.step + 1) * parameters.confidence_bin_width) as bin_upper
    from steps
    cross join parameters
    where steps.step < {{ learning_bin_count('parameters.confidence_bin_width') }}
),

final as (
    select
        cast(
            {{ learning_grid_text('bin_lower') }} || '-' || {{ learning_grid_text('bin_upper') }}
            as {{ string_type() }}
        ) as confidence_bin,
        cast(bin_index as integer) as bin_index,
        cast(bin_index + 1 as integer) as bin_order,
        cast(round(bin_lower, 9) as double) as bin_lower,
        cast(round(bin_upper, 9) as double) as bin_upper
    from bins
)

select * from final
