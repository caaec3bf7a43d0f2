{{ config(materialized='table') }}

{{ stage_feed_keys('signals') }}
