{{ stage_feed('signals', [
    {'name': 'signal_id', 'kind': 'id'},
    {'name': 'customer_id', 'kind': 'id', 'required': true},
    {'name': 'signal_type', 'kind': 'string', 'required': true, 'lower': true},
    {'name': 'signal_strength', 'kind': 'number', 'required': true, 'min': 0, 'max': 1},
    {'name': 'detected_at', 'kind': 'date', 'required': true},
    {'name': 'journey_stage', 'kind': 'enum', 'accepted': 'ref_stage_slas.journey_stage'},
    {'name': 'source', 'kind': 'enum', 'required': true, 'accepted': 'ref_signal_sources.source'},
]) }}
