{#- Every event of the MoEngage users of moengage_persons. -#}
{{ nexus.moengage_events(people_model='moengage_persons') }}
