{#- People as Bluecore customers, one per email; the traits customer_io_persons
    sends become customer attributes, renamed to lower case where needed. -#}
{{ nexus.bluecore_customers(
    ignore_traits=['segment_anonymous_id', '_last_merged_at'],
    rename_traits={'CamelCaseTrait': 'camel_case_trait'}
) }}
