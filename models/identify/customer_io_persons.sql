{#- Quick start: every person in nexus_entities, one row per email. -#}
{{ nexus.customer_io_identify() }}
