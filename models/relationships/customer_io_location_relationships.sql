{#- People related to the locations of customer_io_locations (object type 1).
    userId must be the id customer_io_persons sends as its "userId" (user_id). -#}
{{ nexus.customer_io_relationships(
    object_type_id='1',
    object_entity_type='location',
    user_id_column='user_id',
    relationship_types=['shops_at'],
    rename_attributes={'is_most_recent': 'is_current_location'},
    custom_attributes={'role': 'person_role', 'since': 'DATE_PART(EPOCH_SECOND, established_at)'}
) }}
