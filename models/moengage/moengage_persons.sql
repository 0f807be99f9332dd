{#- People as MoEngage users: customer_id is the user_id customer_io_persons
    sends as "userId"; the traits it sends become user attributes. -#}
{{ nexus.moengage_users(
    ignore_traits=['segment_anonymous_id', '_last_merged_at', 'CamelCaseTrait']
) }}
