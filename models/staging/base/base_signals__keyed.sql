{{ config(pre_hook="{{ keyed_feed_pre_hook('signals') }}", **keyed_feed_config()) }}

{{ stage_feed_keys('signals') }}
