{#- Known users and anonymous visitors: either id is enough for Customer.io. -#}
{{ nexus.customer_io_identify(
    user_id_column='user_id',
    anonymous_id_column='segment_anonymous_id',
    dedupe_column='entity_id'
) }}
