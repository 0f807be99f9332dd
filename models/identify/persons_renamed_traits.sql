{#- Customer.io attribute names chosen by the marketing team. Customer.io
    matches attribute names case-sensitively, so these are the exact names
    its segments and messages use. -#}
{{ nexus.customer_io_identify(
    rename_traits={
        'first_name': 'given_name',
        'last_name': 'family_name',
        '_created_at': 'signed_up_at',
        'CamelCaseTrait': 'camel_case_trait'
    }
) }}
