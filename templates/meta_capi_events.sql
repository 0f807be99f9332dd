{#-
  nexus.meta_capi_events: a Meta Conversions API events table
  (cio_destination 'meta_capi', sync type 'events'), one row per event,
  keyed by event_id; columns, in order:
    event_name         <- event_names[nexus event name] (a mapping; a list
                          sends names as they are); only those events
    event_time         <- occurred_at in Unix seconds, UTC
    event_id           <- event_id (Meta de-duplicates on it with event_name)
    action_source      <- the action_source argument (one of Meta's)
    event_source_url   <- event_source_url_column (default: a column named
                          event_source_url, page_url or url), when present
    opt_out            <- opt_out_column (default: opt_out), when present
    em, ph, fn, ln, ge, db, ct, st, zp, country, external_id
                       <- the person's nexus_entities row, normalised and
                          SHA-256-hashed (nexus.meta_hash); each from the
                          user_data mapping or the first column found of
                          its usual names (email; phone, phone_number;
                          first_name; last_name; gender; date_of_birth,
                          birth_date, birthday; city; state; zip,
                          postal_code; country; external_id, user_id)
    client_ip_address, client_user_agent, fbc, fbp
                       <- the event's columns of those names (or
                          clear_user_data), sent in clear
    currency           <- the currency argument, when the events have no
                          currency column
    every other column of nexus_events, in catalog order, as a custom_data
    property named by its lower-case name (or its rename target); value and
    currency are Meta's own. Not properties: occurred_at, event_name,
    event_id, _ingested_at, _processed_at, the columns read above and every
    ignore_properties column.

  Rows kept: the events named in event_names, narrowed by sources,
  event_types and filters (SQL over nexus_events); one person participant
  (entity_type) each, the lowest entity_id winning; events of no person
  are kept with NULL user_data when clear user_data is present, else left
  out.

  Renders one SELECT with no trailing semicolon, so it can sit in a CTE.
-#}
{% macro meta_capi_events(
    event_names=none,
    action_source=none,
    entity_type='person',
    user_data={},
    clear_user_data={},
    calling_code=none,
    date_of_birth_format=none,
    event_source_url_column=none,
    opt_out_column=none,
    currency=none,
    sources=[],
    event_types=[],
    ignore_properties=[],
    rename_properties={},
    filters=[],
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
{%- do config(cio_destination='meta_capi', cio_sync='events') -%}

{#- What to send, checked first: the events and where they happened. -#}
{%- set names = cio.meta_event_names(event_names) -%}
{%- set action_source_sql = cio.meta_action_source(action_source) -%}

{#- Columns the macro relies on, with errors that say which. -#}
{%- set event_id = cio.column(event_columns, event_id_column, argument='event_id_column', default='event_id', role='the event id column', relation=events_relation) -%}
{%- set occurred_at = cio.column(event_columns, occurred_at_column, argument='occurred_at_column', default='occurred_at', role='the timestamp column', relation=events_relation) -%}
{%- set event_name = cio.column(event_columns, event_name_column, argument='event_name_column', default='event_name', role='the event name column', relation=events_relation) -%}
{%- set participant_event_id = cio.column(participant_columns, event_id_column, argument='event_id_column', default='event_id', role='the event id column', relation=participants_relation) -%}
{%- set participant_entity_id = cio.column(participant_columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the entity id column', relation=participants_relation) -%}
{%- set participant_entity_type = cio.column(participant_columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=participants_relation) -%}
{%- set entity_id = cio.column(entity_columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the entity id column', relation=entities_relation) -%}
{%- set entity_type_col = cio.column(entity_columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=entities_relation) -%}
{%- set url = cio.meta_optional_column(event_columns, event_source_url_column, candidates=['event_source_url', 'page_url', 'url'], argument='event_source_url_column', relation=events_relation) -%}
{%- set opt_out = cio.meta_optional_column(event_columns, opt_out_column, candidates=['opt_out'], argument='opt_out_column', relation=events_relation) -%}
{%- set currency_col = cio.meta_optional_column(event_columns, none, candidates=['currency'], argument='currency', relation=events_relation) -%}
{%- set user = cio.meta_user_data(entity_columns, event_columns, user_data=user_data, clear_user_data=clear_user_data, calling_code=calling_code, date_of_birth_format=date_of_birth_format, entities=entities_relation, events=events_relation) -%}
{%- set clear_keys = user.clear | map(attribute='key') | list -%}
{%- if action_source == 'website' -%}
  {%- do cio.meta_website_fields(url, clear_keys) -%}
{%- endif -%}

{#- Event filters, as SQL literal lists ('' when not filtered). -#}
{%- set source_values = cio.literals(sources, argument='sources') -%}
{%- set event_type_values = cio.literals(event_types, argument='event_types') -%}
{%- if source_values -%}
  {%- set source_column = cio.column(event_columns, source_column, argument='source_column', default='source', role='the source column, for sources', relation=events_relation) -%}
{%- endif -%}
{%- if event_type_values -%}
  {%- set event_type_column = cio.column(event_columns, event_type_column, argument='event_type_column', default='event_type', role='the event type column, for event_types', relation=events_relation) -%}
{%- endif -%}
{%- set filters = [filters] if filters is string else filters -%}

{#- custom_data: every other event column; the fields above are taken. -#}
{%- set used = [occurred_at.name, event_name.name, event_id.name, '_ingested_at', '_processed_at'] + (user.clear | map(attribute='column') | reject('none') | list) -%}
{%- if url is not none -%}{%- set used = used + [url.name] -%}{%- endif -%}
{%- if opt_out is not none -%}{%- set used = used + [opt_out.name] -%}{%- endif -%}
{%- set properties = cio.traits(
    event_columns,
    exclude=used,
    ignore=ignore_properties,
    rename=rename_properties,
    outputs=cio.meta_outputs(),
    ignore_argument='ignore_properties',
    rename_argument='rename_properties',
    relation=events_relation
) -%}
SELECT
    CASE events.{{ cio.ident(event_name.name) }}{% for pair in names %} WHEN {{ pair[0] }} THEN {{ pair[1] }}{% endfor %} END AS "event_name",
    DATE_PART(EPOCH_SECOND, {{ cio.utc('events.' ~ cio.ident(occurred_at.name), occurred_at.data_type) }}) AS "event_time",
    events.{{ cio.ident(event_id.name) }} AS "event_id",
    {{ action_source_sql }} AS "action_source"
{%- if url is not none %},
    events.{{ cio.ident(url.name) }} AS "event_source_url"
{%- endif %}
{%- if opt_out is not none %},
    events.{{ cio.ident(opt_out.name) }} AS "opt_out"
{%- endif %}
{%- for field in user.hashed %},
    persons.{{ cio.alias(field.key) }} AS {{ cio.alias(field.key) }}
{%- endfor %}
{%- for field in user.clear %},
    {{ field.sql if field.column is none else 'events.' ~ field.sql }} AS {{ cio.alias(field.key) }}
{%- endfor %}
{%- if currency is not none and currency_col is none %},
    {{ cio.literal(currency) }} AS "currency"
{%- endif %}
{%- for property in properties %},
    {{ cio.qualified(property, 'events') }} AS {{ property.alias }}
{%- endfor %}
FROM (
    SELECT *
    FROM {{ events_relation }}
    WHERE {{ cio.ident(event_name.name) }} IN ({{ names | map('first') | join(', ') }})
{%- if source_values %}
      AND {{ cio.ident(source_column.name) }} IN ({{ source_values }})
{%- endif %}
{%- if event_type_values %}
      AND {{ cio.ident(event_type_column.name) }} IN ({{ event_type_values }})
{%- endif %}
{%- for filter in filters %}
      AND ({{ filter }})
{%- endfor %}
) AS events
{%- if user.hashed %}
{{ 'LEFT' if user.clear else 'INNER' }} JOIN (
    SELECT
        participants.{{ cio.ident(participant_event_id.name) }} AS "__event_id",
        entities.*
    FROM {{ participants_relation }} AS participants
    INNER JOIN (
        SELECT
            {{ cio.ident(entity_id.name) }}
{%- for field in user.hashed %},
            {{ field.sql }} AS {{ cio.alias(field.key) }}
{%- endfor %}
        FROM {{ entities_relation }}
        WHERE {{ cio.ident(entity_type_col.name) }} = {{ cio.literal(entity_type) }}
    ) AS entities
        ON entities.{{ cio.ident(entity_id.name) }} = participants.{{ cio.ident(participant_entity_id.name) }}
    WHERE participants.{{ cio.ident(participant_entity_type.name) }} = {{ cio.literal(entity_type) }}
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY participants.{{ cio.ident(participant_event_id.name) }}
        ORDER BY entities.{{ cio.ident(entity_id.name) }} ASC
    ) = 1
) AS persons
    ON persons."__event_id" = events.{{ cio.ident(event_id.name) }}
{%- endif %}
{%- endmacro %}
