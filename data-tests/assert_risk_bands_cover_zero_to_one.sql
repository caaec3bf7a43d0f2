-- The risk bands must tile [0, 1] without gaps or overlaps. Returns the offending bands.
with

bands as (
    select * from {{ ref('ref_risk_bands') }}
),

ordered as (
    select
        risk_band,
        min_score,
        max_score,
        lag(max_score) over (order by min_score) as previous_max_score,
        row_number() over (order by min_score) as band_rank,
        count(*) over () as band_count
    from bands
),

final as (
    select * from ordered
    where
        (band_rank = 1 and min_score <> 0)
        or (band_rank > 1 and min_score <> previous_max_score)
        or (band_rank = band_count and max_score <= 1)
        or min_score >= max_score
)

select * from final
