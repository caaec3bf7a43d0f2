{{ stage_feed('customers', [
    {'name': 'customer_id', 'kind': 'id'},
    {'name': 'segment', 'kind': 'enum', 'required': true, 'accepted': 'ref_segments.segment'},
    {'name': 'account_value', 'kind': 'number', 'required': true, 'min': 0, 'cast_as': 'decimal(18, 2)'},
    {'name': 'tenure_months', 'kind': 'integer', 'required': true, 'min': 0},
    {'name': 'risk_tier', 'kind': 'enum', 'required': true, 'accepted': 'ref_risk_tiers.risk_tier'},
]) }}
