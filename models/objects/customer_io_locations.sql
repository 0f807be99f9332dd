{#- Locations as Customer.io objects of type 1 ("Locations" in the workspace).
    nexus_entities holds every entity type, so the person-only columns are
    left out; what remains (name, status, timestamps) describes a location. -#}
{{ nexus.customer_io_objects(
    object_type_id='1',
    entity_type='location',
    ignore_traits=[
        'email', 'first_name', 'last_name', 'phone_number', 'user_id',
        'segment_anonymous_id', 'company_name', 'plan', 'lifetime_value',
        'is_subscribed', 'signup_date', 'CamelCaseTrait', '_last_merged_at'
    ],
    rename_traits={'name': 'location_name'}
) }}
