{#- People related to the locations of rudderstack_locations, for RudderStack's
    Customer.io destination. userId is the id customer_io_persons sends, and only its people are kept. -#}
{{ nexus.rudderstack_customer_io_relationships(
    object_type_id='1',
    object_entity_type='location',
    user_id_column='user_id',
    relationship_types=['shops_at'],
    people_model='customer_io_persons'
) }}
