{#-
  nexus.customer_io_track: a Customer.io Track (events) sync table.

  One row per (event, person participant); columns, in order:
    "userId"       <- user_id_column of the person (nexus_entities; a column
                      name or any SQL expression over its columns)
    "anonymousId"  <- anonymous_id_column of the person, only when given
    "timestamp"    <- occurred_at as a UTC TIMESTAMP_NTZ (cio.utc)
    "event"        <- event_name
    every other column of nexus_events, in catalog order, as an event
    property named by its lower-case name (or its rename target); source is
    presented as "event_data_source"; timestamp types as UTC
    TIMESTAMP_NTZ (TO_TIMESTAMP_NTZ of NTZ columns, taken as UTC;
    CONVERT_TIMEZONE('UTC', col)::TIMESTAMP_NTZ of TZ and LTZ columns). Not properties: occurred_at, event_name, _ingested_at,
    _processed_at and every ignore_properties column.

  Rows kept: events with an event name, narrowed by sources, event_names,
  event_types and filters (SQL over nexus_events); participants of
  entity_type; a userId (or an anonymousId, when given); and, unless
  people_model is none, a userId present in the people model (rows with only
  an anonymousId are kept: Customer.io attaches them when the person is
  identified). One row per (event, userId), or per (event, anonymousId) for
  rows without a userId; the person with the lowest entity_id wins.

  Renders one SELECT with no trailing semicolon, so it can sit in a CTE.
-#}
{% macro customer_io_track(
    entity_type='person',
    user_id_column='email',
    anonymous_id_column=none,
    sources=[],
    event_names=[],
    event_types=[],
    ignore_properties=[],
    rename_properties={},
    filters=[],
    people_model='customer_io_persons',
    event_id_column='event_id',
    occurred_at_column='occurred_at',
    event_name_column='event_name',
    entity_id_column='entity_id',
    entity_type_column='entity_type',
    source_column='source',
    event_type_column='event_type'
) -%}
{%- set events_relation = ref('nexus_events') -%}
{%- set participants_relation = ref('nexus_entity_participants') -%}
{%- set entities_relation = ref('nexus_entities') -%}
{%- set event_columns = adapter.get_columns_in_relation(events_relation) -%}
{%- set participant_columns = adapter.get_columns_in_relation(participants_relation) -%}
{%- set entity_columns = adapter.get_columns_in_relation(entities_relation) -%}
{%- set people = cio.people_model(people_model, argument='people_model') -%}
{%- do config(cio_sync='track', cio_timestamp_column='timestamp') -%}
{#- The change-tracking key: the event and the person it is sent for. -#}
{%- do config(cio_key=['event_id', 'userId'] if anonymous_id_column is none else ['event_id', 'userId', 'anonymousId']) -%}
{%- if people is not none -%}
  {%- do config(cio_people_model=people_model) -%}
{%- endif -%}

{#- Columns the macro relies on, with errors that say which. -#}
{%- set event_id = cio.column(event_columns, event_id_column, argument='event_id_column', default='event_id', role='the event id column', relation=events_relation) -%}
{%- set occurred_at = cio.column(event_columns, occurred_at_column, argument='occurred_at_column', default='occurred_at', role='the timestamp column', relation=events_relation) -%}
{%- set event_name = cio.column(event_columns, event_name_column, argument='event_name_column', default='event_name', role='the event name column', relation=events_relation) -%}
{%- set participant_event_id = cio.column(participant_columns, event_id_column, argument='event_id_column', default='event_id', role='the event id column', relation=participants_relation) -%}
{%- set participant_entity_id = cio.column(participant_columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the entity id column', relation=participants_relation) -%}
{%- set participant_entity_type = cio.column(participant_columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=participants_relation) -%}
{%- set entity_id = cio.column(entity_columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the entity id column', relation=entities_relation) -%}
{%- set entity_type_column = cio.column(entity_columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=entities_relation) -%}
{%- set user_id = cio.id_expression(entity_columns, user_id_column, argument='user_id_column', relation=entities_relation) -%}
{%- if anonymous_id_column is not none -%}
  {%- set anonymous_id = cio.id_expression(entity_columns, anonymous_id_column, argument='anonymous_id_column', relation=entities_relation) -%}
{%- endif -%}

{#- Event filters, as SQL literal lists ('' when not filtered). -#}
{%- set source_values = cio.literals(sources, argument='sources') -%}
{%- set event_name_values = cio.literals(event_names, argument='event_names') -%}
{%- set event_type_values = cio.literals(event_types, argument='event_types') -%}
{%- if source_values -%}
  {%- set source_column = cio.column(event_columns, source_column, argument='source_column', default='source', role='the source column, for sources', relation=events_relation) -%}
{%- endif -%}
{%- if event_type_values -%}
  {%- set event_type_column = cio.column(event_columns, event_type_column, argument='event_type_column', default='event_type', role='the event type column, for event_types', relation=events_relation) -%}
{%- endif -%}
{%- set filters = [filters] if filters is string else filters -%}

{#- Properties: every other event column; the Customer.io fields are taken. -#}
{%- set properties = cio.traits(
    event_columns,
    exclude=[occurred_at.name, event_name.name, '_ingested_at', '_processed_at'],
    ignore=ignore_properties,
    default_rename={'source': 'event_data_source'},
    rename=rename_properties,
    outputs={
        'userId': 'user_id_column (' ~ user_id.sql ~ ')',
        'anonymousId': ('anonymous_id_column (' ~ anonymous_id.sql ~ ')') if anonymous_id_column is not none else 'the Customer.io field anonymousId',
        'timestamp': 'the event time (' ~ occurred_at.name ~ ')',
        'event': 'the event name (' ~ event_name.name ~ ')'
    },
    ignore_argument='ignore_properties',
    rename_argument='rename_properties',
    relation=events_relation
) -%}
SELECT
    persons."userId" AS "userId",
{%- if anonymous_id_column is not none %}
    persons."anonymousId" AS "anonymousId",
{%- endif %}
    {{ cio.utc('events.' ~ cio.ident(occurred_at.name), occurred_at.data_type) }} AS "timestamp",
    events.{{ cio.ident(event_name.name) }} AS "event"
{%- for property in properties %},
    {{ cio.qualified(property, 'events') }} AS {{ property.alias }}
{%- endfor %}
FROM (
    SELECT *
    FROM {{ events_relation }}
    WHERE {{ cio.ident(event_name.name) }} IS NOT NULL
{%- if source_values %}
      AND {{ cio.ident(source_column.name) }} IN ({{ source_values }})
{%- endif %}
{%- if event_name_values %}
      AND {{ cio.ident(event_name.name) }} IN ({{ event_name_values }})
{%- endif %}
{%- if event_type_values %}
      AND {{ cio.ident(event_type_column.name) }} IN ({{ event_type_values }})
{%- endif %}
{%- for filter in filters %}
      AND ({{ filter }})
{%- endfor %}
) AS events
INNER JOIN {{ participants_relation }} AS participants
    ON participants.{{ cio.ident(participant_event_id.name) }} = events.{{ cio.ident(event_id.name) }}
    AND participants.{{ cio.ident(participant_entity_type.name) }} = {{ cio.literal(entity_type) }}
INNER JOIN (
    SELECT
        {{ cio.ident(entity_id.name) }},
        {{ user_id.sql }} AS "userId"
{%- if anonymous_id_column is not none %},
        {{ anonymous_id.sql }} AS "anonymousId"
{%- endif %}
    FROM {{ entities_relation }}
    WHERE {{ cio.ident(entity_type_column.name) }} = {{ cio.literal(entity_type) }}
{%- if anonymous_id_column is not none %}
      AND ({{ user_id.sql }} IS NOT NULL OR {{ anonymous_id.sql }} IS NOT NULL)
{%- else %}
      AND {{ user_id.sql if user_id.is_column else '(' ~ user_id.sql ~ ')' }} IS NOT NULL
{%- endif %}
) AS persons
    ON persons.{{ cio.ident(entity_id.name) }} = participants.{{ cio.ident(participant_entity_id.name) }}
{%- if people is not none %}
{%- if anonymous_id_column is not none %}
WHERE persons."userId" IS NULL
    OR persons."userId" IN (
        SELECT "userId"
        FROM {{ people }}
    )
{%- else %}
WHERE persons."userId" IN (
    SELECT "userId"
    FROM {{ people }}
)
{%- endif %}
{%- endif %}
QUALIFY ROW_NUMBER() OVER (
{%- if anonymous_id_column is not none %}
    PARTITION BY events.{{ cio.ident(event_id.name) }}, persons."userId", CASE WHEN persons."userId" IS NULL THEN persons."anonymousId" END
{%- else %}
    PARTITION BY events.{{ cio.ident(event_id.name) }}, persons."userId"
{%- endif %}
    ORDER BY persons.{{ cio.ident(entity_id.name) }} ASC
) = 1
{%- endmacro %}
