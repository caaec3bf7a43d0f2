-- The risk factor weights must sum to 1 so that risk_score stays in [0, 1]. Returns a row when they do not.
select sum(weight) as total_weight
from {{ ref('ref_risk_factors') }}
having abs(sum(weight) - 1) > 1e-9
