{#- Customer.io attribute names chosen by the marketing team: lower case, as
    Customer.io matches attribute names case-sensitively (CIO207). -#}
{{ nexus.customer_io_identify(
    rename_traits={
        'first_name': 'given_name',
        'last_name': 'family_name',
        '_created_at': 'signed_up_at',
        'CamelCaseTrait': 'camel_case_trait'
    }
) }}
