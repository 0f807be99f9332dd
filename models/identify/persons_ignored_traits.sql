{#- Keep personal data that Customer.io does not need out of the sync. -#}
{{ nexus.customer_io_identify(
    ignore_traits=['phone_number', 'segment_anonymous_id', '_last_merged_at', 'CamelCaseTrait']
) }}
