{#- Every event of the Bluecore customers, by email: orders as Bluecore's
    standard purchase event, their value as its total. -#}
{{ nexus.bluecore_events(
    people_model='bluecore_customers',
    rename_events={'Order Placed': 'purchase'},
    rename_properties={'value': 'total'}
) }}
