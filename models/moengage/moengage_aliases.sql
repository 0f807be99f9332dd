{#- Old customer_ids of people who share an email with a newer one: each
    merges into the id moengage_persons keeps. -#}
{{ nexus.moengage_aliases() }}
