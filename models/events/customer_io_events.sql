{#- Quick start: every event of every person the people model syncs.
    userId must be the id customer_io_persons sends as its "userId" (user_id). -#}
{{ nexus.customer_io_track(user_id_column='user_id') }}
