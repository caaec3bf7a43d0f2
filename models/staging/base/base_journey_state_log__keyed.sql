{{ config(pre_hook="{{ keyed_feed_pre_hook('journey_state_log') }}", **keyed_feed_config()) }}

{{ stage_feed_keys('journey_state_log') }}
