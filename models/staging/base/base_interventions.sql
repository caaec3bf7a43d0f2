{{ stage_feed('interventions', [
    {'name': 'intervention_id', 'kind': 'id'},
    {'name': 'customer_id', 'kind': 'id', 'required': true},
    {'name': 'journey_stage', 'kind': 'enum', 'accepted': 'ref_stage_slas.journey_stage'},
    {'name': 'recommended_action', 'kind': 'enum', 'required': true, 'accepted': 'ref_actions.recommended_action'},
    {'name': 'confidence', 'kind': 'number', 'required': true, 'min': 0, 'max': 1},
    {'name': 'requires_human_approval', 'kind': 'boolean', 'required': true},
    {'name': 'triggered_by_signals', 'kind': 'string_list'},
    {'name': 'evaluation_latency_ms', 'kind': 'integer', 'min': 0},
    {'name': 'generated_at', 'kind': 'date', 'required': true},
]) }}
