{#- The locations of customer_io_locations, as objects of type 1 for
    RudderStack's Customer.io destination (its reverse ETL reads this table). -#}
{{ nexus.rudderstack_customer_io_objects(
    object_type_id='1',
    entity_type='location',
    ignore_traits=[
        'email', 'first_name', 'last_name', 'phone_number', 'user_id',
        'segment_anonymous_id', 'company_name', 'plan', 'lifetime_value',
        'is_subscribed', 'signup_date', 'CamelCaseTrait', '_last_merged_at'
    ],
    rename_traits={'name': 'location_name'}
) }}
