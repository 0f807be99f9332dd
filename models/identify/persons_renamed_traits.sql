{#- Customer.io attribute names chosen by the marketing team. -#}
{{ nexus.customer_io_identify(
    rename_traits={
        'first_name': 'firstName',
        'last_name': 'lastName',
        '_created_at': 'signed_up_at',
        'CamelCaseTrait': 'camel_case_trait'
    }
) }}
