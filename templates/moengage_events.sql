{#-
  nexus.moengage_events: MoEngage events, one row per (event, person) of
  nexus_events and its participants.

  Columns, in order:
    "customer_id"  <- customer_id_column of the person (nexus_entities)
    "event_id"     the row key (not sent to MoEngage)
    "action"       <- the event name
    "event_time"   when it happened, whole Unix seconds (UTC): MoEngage's
                   current_time
    every other property nexus.customer_io_track makes (same arguments:
    sources, event_names, event_types, ignore_properties,
    rename_properties, filters, …), each an attribute of the event.

  people_model (none by default) keeps only the customer_ids of a
  nexus.moengage_users model. Renders one SELECT with no trailing semicolon.
-#}
{% macro moengage_events(
    entity_type='person',
    customer_id_column='user_id',
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
    user_id_column=customer_id_column,
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
{%- do config(cio_destination='moengage', cio_sync='events', cio_key=['event_id', 'customer_id']) -%}
SELECT
    events."userId" AS "customer_id",
    events."event_id" AS "event_id",
    events."event" AS "action",
    DATE_PART(epoch_second, events."timestamp") AS "event_time",
    events.* EXCLUDE ("userId", "event_id", "event", "timestamp")
FROM (
    {{ events | trim | indent(4) }}
) AS events
WHERE events."userId" IS NOT NULL
{%- if people is not none %}
  AND events."userId" IN (
    SELECT "customer_id"
    FROM {{ people }}
  )
{%- endif %}
{%- endmacro %}
