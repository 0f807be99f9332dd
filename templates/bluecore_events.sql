{#-
  nexus.bluecore_events: Bluecore events, one row per (event, customer) of
  nexus_events and its participants.

  Columns, in order:
    "event"        <- the event name, or its entry in rename_events (to
                      send Bluecore's standard names: purchase, search, …)
    "distinct_id"  <- distinct_id_column of the person (nexus_entities;
                      by default the email lower-cased and trimmed, as
                      nexus.bluecore_customers sends it; a non-email id
                      must be linked to an email by an identify call)
    "event_id"     the row key with distinct_id (not sent to Bluecore)
    "event_time"   when it happened, whole Unix seconds (UTC)
    every other property nexus.customer_io_track makes (same arguments:
    sources, event_names, event_types, ignore_properties,
    rename_properties, filters, …), each a property of the event.

  people_model (none by default) keeps only the distinct_ids that are the
  emails of a nexus.bluecore_customers model. Renders one SELECT with no
  trailing semicolon.
-#}
{% macro bluecore_events(
    entity_type='person',
    distinct_id_column='LOWER(TRIM(email))',
    rename_events={},
    sources=[],
    event_names=[],
    event_types=[],
    ignore_properties=[],
    rename_properties={},
    filters=[],
    people_model=none,
    event_id_column='event_id',
    occurred_at_column='occurred_at',
    event_name_column='event_name',
    entity_id_column='entity_id',
    entity_type_column='entity_type',
    source_column='source',
    event_type_column='event_type'
) -%}
{%- set people = cio.people_model(people_model, argument='people_model') -%}
{%- set events = nexus.customer_io_track(
    entity_type=entity_type,
    user_id_column=distinct_id_column,
    sources=sources,
    event_names=event_names,
    event_types=event_types,
    ignore_properties=ignore_properties,
    rename_properties=rename_properties,
    filters=filters,
    people_model=none,
    event_id_column=event_id_column,
    occurred_at_column=occurred_at_column,
    event_name_column=event_name_column,
    entity_id_column=entity_id_column,
    entity_type_column=entity_type_column,
    source_column=source_column,
    event_type_column=event_type_column
) -%}
{%- do config(cio_destination='bluecore', cio_sync='events', cio_key=['event_id', 'distinct_id']) -%}
SELECT
{%- if rename_events %}
    CASE events."event"
    {%- for name, standard in rename_events | dictsort %}
        WHEN {{ cio.literal(name) }} THEN {{ cio.literal(standard) }}
    {%- endfor %}
        ELSE events."event"
    END AS "event",
{%- else %}
    events."event" AS "event",
{%- endif %}
    events."userId" AS "distinct_id",
    events."event_id" AS "event_id",
    DATE_PART(epoch_second, events."timestamp") AS "event_time",
    events.* EXCLUDE ("userId", "event_id", "event", "timestamp")
FROM (
    {{ events | trim | indent(4) }}
) AS events
WHERE events."userId" IS NOT NULL
{%- if people is not none %}
  AND events."userId" IN (
    SELECT "email"
    FROM {{ people }}
  )
{%- endif %}
{%- endmacro %}
