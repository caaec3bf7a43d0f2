{{ stage_feed('outcomes', [
    {'name': 'outcome_id', 'kind': 'id'},
    {'name': 'intervention_id', 'kind': 'id', 'required': true},
    {'name': 'customer_id', 'kind': 'id'},
    {'name': 'outcome', 'kind': 'enum', 'required': true, 'accepted': 'ref_outcome_types.outcome'},
    {'name': 'resolution_time_days', 'kind': 'number', 'min': 0},
    {'name': 'csat_delta', 'kind': 'number'},
    {'name': 'churn_risk_delta', 'kind': 'number', 'min': -1, 'max': 1},
    {'name': 'estimated_revenue_saved', 'kind': 'number', 'min': 0, 'cast_as': 'decimal(18, 2)'},
    {'name': 'human_override', 'kind': 'boolean'},
    {'name': 'measured_at', 'kind': 'date', 'required': true},
]) }}
