{#- Meta Conversions API: every order as a Purchase server event. The buyer's
    e-mail, phone, first and last name and user id are normalised the way Meta
    asks and SHA-256-hashed in SQL (nexus.meta_hash), so no PII leaves the
    warehouse in clear; `value_unit` is the currency. The orders come from the
    shop's back end, not from a browser session, hence action_source 'other'
    (website events also need event_source_url and client_user_agent).
    `cio-sql export meta_capi_purchases` writes the request bodies. -#}
{{ nexus.meta_capi_events(
    event_names={'Order Placed': 'Purchase'},
    action_source='other',
    rename_properties={'value_unit': 'currency'}
) }}
