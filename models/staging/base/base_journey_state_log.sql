{{ stage_feed('journey_state_log', [
    {'name': 'customer_id', 'kind': 'id'},
    {'name': 'state_entered_at', 'kind': 'date'},
    {'name': 'journey_stage', 'kind': 'enum', 'required': true, 'accepted': 'ref_stage_slas.journey_stage'},
    {'name': 'previous_stage', 'kind': 'enum', 'accepted': 'ref_stage_slas.journey_stage'},
    {'name': 'days_in_state', 'kind': 'integer', 'min': 0},
]) }}
