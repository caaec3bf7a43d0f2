{{ config(pre_hook="{{ keyed_feed_pre_hook('customers') }}", **keyed_feed_config()) }}

{{ stage_feed_keys('customers') }}
