{{ config(materialized='table') }}

{{ stage_feed_keys('journey_state_log') }}
