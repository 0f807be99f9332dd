{#-
  nexus.customer_io_relationships: a Customer.io Group sync with userId,
  which relates people to objects.

  One row per (object, person) pair of nexus_relationships between a person
  and an entity of object_entity_type (either side of the relationship);
  columns, in order:
    "groupId"                 <- group_id_column of the object entity
    "objectTypeId"            <- object_type_id, required, as a string literal
    "userId"                  <- user_id_column of the person entity
    "timestamp"               <- when the row last changed (see below)
    "relationshipAttributes"  <- OBJECT_CONSTRUCT of the derived attributes
                                 and custom_attributes

  Derived attributes (derived_attributes picks them; all by default):
    is_most_recent        the person's relationship established last
    is_first              the person's relationship established first
    related_object_count  how many objects of this type the person has
    first_interaction_at  first event with both the person and the object
    last_interaction_at   last such event (both as Unix seconds)
  custom_attributes maps more names to SQL expressions over the pair's
  columns: every nexus_relationships column, person_entity_id, person_role,
  object_entity_id, object_role, "userId", "groupId" and, when an
  interaction attribute is in use, first_interaction_at and
  last_interaction_at.

  "timestamp" is the relationship's _updated_at; with a per-person attribute
  (is_most_recent, is_first, related_object_count) the latest _updated_at of
  the person's relationships, so every row of the person syncs again when one
  changes; with an interaction attribute, the later of that and the last
  interaction.

  Rows kept: relationship_types (all when empty), active relationships unless
  active_only is false, every filter (SQL over nexus_relationships), a
  userId and a groupId, and, unless people_model is none, a userId present in
  the people model. One row per (groupId, userId): the latest _updated_at
  wins, ties broken by relationship_id ascending.

  Renders one SELECT with no trailing semicolon, so it can sit in a CTE.
-#}
{% macro customer_io_relationships(
    object_type_id=none,
    object_entity_type='group',
    person_entity_type='person',
    user_id_column='email',
    group_id_column='entity_id',
    relationship_types=[],
    active_only=true,
    derived_attributes=none,
    rename_attributes={},
    custom_attributes={},
    filters=[],
    people_model='customer_io_persons',
    updated_at_column='_updated_at',
    entity_id_column='entity_id',
    entity_type_column='entity_type',
    event_id_column='event_id',
    occurred_at_column='occurred_at'
) -%}
{%- set object_type = cio.object_type_id(object_type_id, argument='object_type_id') -%}
{%- set relationships_relation = ref('nexus_relationships') -%}
{%- set entities_relation = ref('nexus_entities') -%}
{%- set relationship_columns = adapter.get_columns_in_relation(relationships_relation) -%}
{%- set entity_columns = adapter.get_columns_in_relation(entities_relation) -%}
{%- set people = cio.people_model(people_model, argument='people_model') -%}
{%- do config(cio_sync='relationship', cio_timestamp_column='timestamp', cio_object_type_id=object_type_id | string | trim) -%}
{%- if people is not none -%}
  {%- do config(cio_people_model=people_model) -%}
{%- endif -%}

{#- Columns the macro relies on, with errors that say which. -#}
{%- set entity_type_name = entity_type_column -%}
{%- set relationship_id = cio.column(relationship_columns, 'relationship_id', role='the tie-breaker column', relation=relationships_relation) -%}
{%- set a_id = cio.column(relationship_columns, 'entity_a_id', role='the first entity id column', relation=relationships_relation) -%}
{%- set a_type = cio.column(relationship_columns, 'entity_a_type', role='the first entity type column', relation=relationships_relation) -%}
{%- set a_role = cio.column(relationship_columns, 'entity_a_role', role='the first entity role column', relation=relationships_relation) -%}
{%- set b_id = cio.column(relationship_columns, 'entity_b_id', role='the second entity id column', relation=relationships_relation) -%}
{%- set b_type = cio.column(relationship_columns, 'entity_b_type', role='the second entity type column', relation=relationships_relation) -%}
{%- set b_role = cio.column(relationship_columns, 'entity_b_role', role='the second entity role column', relation=relationships_relation) -%}
{%- set established_at = cio.column(relationship_columns, 'established_at', role='the established-at column', relation=relationships_relation) -%}
{%- set updated_at = cio.column(relationship_columns, updated_at_column, argument='updated_at_column', default='_updated_at', role='the timestamp column', relation=relationships_relation) -%}
{%- if active_only -%}
  {%- set is_active = cio.column(relationship_columns, 'is_active', role='the is_active column, read when active_only=true (pass active_only=false to keep every relationship)', relation=relationships_relation) -%}
{%- endif -%}
{%- set relationship_type_values = cio.literals(relationship_types, argument='relationship_types') -%}
{%- if relationship_type_values -%}
  {%- set relationship_type = cio.column(relationship_columns, 'relationship_type', role='the relationship type column, read for relationship_types', relation=relationships_relation) -%}
{%- endif -%}
{%- set entity_id = cio.column(entity_columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the entity id column', relation=entities_relation) -%}
{%- set entity_type_column = cio.column(entity_columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=entities_relation) -%}
{%- set user_id = cio.id_expression(entity_columns, user_id_column, argument='user_id_column', relation=entities_relation) -%}
{%- set group_id = cio.id_expression(entity_columns, group_id_column, argument='group_id_column', relation=entities_relation) -%}
{%- set filters = [filters] if filters is string else filters -%}

{#- Relationship attributes: SQL over the deduplicated pairs. -#}
{%- set established = 'pairs.' ~ cio.ident(established_at.name) -%}
{%- set attributes = cio.relationship_attributes(
    {
        'is_most_recent': 'ROW_NUMBER() OVER (PARTITION BY pairs."userId" ORDER BY ' ~ established ~ ' DESC NULLS LAST, pairs."groupId" ASC) = 1',
        'is_first': 'ROW_NUMBER() OVER (PARTITION BY pairs."userId" ORDER BY ' ~ established ~ ' ASC NULLS LAST, pairs."groupId" ASC) = 1',
        'related_object_count': 'COUNT(*) OVER (PARTITION BY pairs."userId")',
        'first_interaction_at': 'DATE_PART(EPOCH_SECOND, pairs.first_interaction_at)',
        'last_interaction_at': 'DATE_PART(EPOCH_SECOND, pairs.last_interaction_at)'
    },
    selected=derived_attributes,
    rename=rename_attributes,
    custom=custom_attributes,
    argument='derived_attributes'
) -%}
{%- set keys = attributes | map(attribute='key') | reject('none') | list -%}
{%- set per_person = 'is_most_recent' in keys or 'is_first' in keys or 'related_object_count' in keys -%}
{%- set interactions = 'first_interaction_at' in keys or 'last_interaction_at' in keys -%}
{%- if interactions -%}
  {%- set events_relation = ref('nexus_events') -%}
  {%- set participants_relation = ref('nexus_entity_participants') -%}
  {%- set event_columns = adapter.get_columns_in_relation(events_relation) -%}
  {%- set participant_columns = adapter.get_columns_in_relation(participants_relation) -%}
  {%- set event_id = cio.column(event_columns, event_id_column, argument='event_id_column', default='event_id', role='the event id column', relation=events_relation) -%}
  {%- set occurred_at = cio.column(event_columns, occurred_at_column, argument='occurred_at_column', default='occurred_at', role='the event timestamp column', relation=events_relation) -%}
  {%- set participant_event_id = cio.column(participant_columns, event_id_column, argument='event_id_column', default='event_id', role='the event id column', relation=participants_relation) -%}
  {%- set participant_entity_id = cio.column(participant_columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the entity id column', relation=participants_relation) -%}
  {%- set participant_entity_type = cio.column(participant_columns, entity_type_name, argument='entity_type_column', default='entity_type', role='the entity type column', relation=participants_relation) -%}
{%- endif -%}
{%- set changed_at = 'MAX(pairs.' ~ cio.ident(updated_at.name) ~ ') OVER (PARTITION BY pairs."userId")' if per_person else 'pairs.' ~ cio.ident(updated_at.name) -%}
{%- set person_is_a = cio.ident(a_type.name) ~ ' = ' ~ cio.literal(person_entity_type) -%}
{#- Attributes are computed as plain columns first and put into the object
    one level up: window functions stay out of OBJECT_CONSTRUCT. -#}
{%- set pairs_select -%}
SELECT
    pairs."groupId" AS "groupId",
    {{ object_type }} AS "objectTypeId",
    pairs."userId" AS "userId",
{%- if interactions %}
    GREATEST_IGNORE_NULLS({{ cio.utc(changed_at, updated_at.data_type) }}, pairs.last_interaction_at) AS "timestamp"
{%- else %}
    {{ cio.utc(changed_at, updated_at.data_type) }} AS "timestamp"
{%- endif %}
{%- for attribute in attributes %},
    {{ attribute.sql }} AS cio_attribute_{{ loop.index }}
{%- endfor %}
FROM (
    SELECT
        relationships.*,
        persons."userId",
        objects."groupId"
{%- if interactions %},
        interactions.first_interaction_at,
        interactions.last_interaction_at
{%- endif %}
    FROM (
        SELECT
            *,
            CASE WHEN {{ person_is_a }} THEN {{ cio.ident(a_id.name) }} ELSE {{ cio.ident(b_id.name) }} END AS person_entity_id,
            CASE WHEN {{ person_is_a }} THEN {{ cio.ident(a_role.name) }} ELSE {{ cio.ident(b_role.name) }} END AS person_role,
            CASE WHEN {{ person_is_a }} THEN {{ cio.ident(b_id.name) }} ELSE {{ cio.ident(a_id.name) }} END AS object_entity_id,
            CASE WHEN {{ person_is_a }} THEN {{ cio.ident(b_role.name) }} ELSE {{ cio.ident(a_role.name) }} END AS object_role
        FROM {{ relationships_relation }}
        WHERE (
            ({{ person_is_a }} AND {{ cio.ident(b_type.name) }} = {{ cio.literal(object_entity_type) }})
            OR ({{ cio.ident(a_type.name) }} = {{ cio.literal(object_entity_type) }} AND {{ cio.ident(b_type.name) }} = {{ cio.literal(person_entity_type) }})
        )
{%- if relationship_type_values %}
          AND {{ cio.ident(relationship_type.name) }} IN ({{ relationship_type_values }})
{%- endif %}
{%- if active_only %}
          AND {{ cio.ident(is_active.name) }}
{%- endif %}
{%- for filter in filters %}
          AND ({{ filter }})
{%- endfor %}
    ) AS relationships
    INNER JOIN (
        SELECT
            {{ cio.ident(entity_id.name) }},
            {{ user_id.sql }} AS "userId"
        FROM {{ entities_relation }}
        WHERE {{ cio.ident(entity_type_column.name) }} = {{ cio.literal(person_entity_type) }}
          AND {{ user_id.sql if user_id.is_column else '(' ~ user_id.sql ~ ')' }} IS NOT NULL
    ) AS persons
        ON persons.{{ cio.ident(entity_id.name) }} = relationships.person_entity_id
    INNER JOIN (
        SELECT
            {{ cio.ident(entity_id.name) }},
            {{ group_id.sql }} AS "groupId"
        FROM {{ entities_relation }}
        WHERE {{ cio.ident(entity_type_column.name) }} = {{ cio.literal(object_entity_type) }}
          AND {{ group_id.sql if group_id.is_column else '(' ~ group_id.sql ~ ')' }} IS NOT NULL
    ) AS objects
        ON objects.{{ cio.ident(entity_id.name) }} = relationships.object_entity_id
{%- if interactions %}
    LEFT JOIN (
        SELECT
            person_participants.{{ cio.ident(participant_entity_id.name) }} AS person_entity_id,
            object_participants.{{ cio.ident(participant_entity_id.name) }} AS object_entity_id,
            MIN({{ cio.utc('events.' ~ cio.ident(occurred_at.name), occurred_at.data_type) }}) AS first_interaction_at,
            MAX({{ cio.utc('events.' ~ cio.ident(occurred_at.name), occurred_at.data_type) }}) AS last_interaction_at
        FROM {{ participants_relation }} AS person_participants
        INNER JOIN {{ participants_relation }} AS object_participants
            ON object_participants.{{ cio.ident(participant_event_id.name) }} = person_participants.{{ cio.ident(participant_event_id.name) }}
        INNER JOIN {{ events_relation }} AS events
            ON events.{{ cio.ident(event_id.name) }} = person_participants.{{ cio.ident(participant_event_id.name) }}
        WHERE person_participants.{{ cio.ident(participant_entity_type.name) }} = {{ cio.literal(person_entity_type) }}
          AND object_participants.{{ cio.ident(participant_entity_type.name) }} = {{ cio.literal(object_entity_type) }}
        GROUP BY person_participants.{{ cio.ident(participant_entity_id.name) }}, object_participants.{{ cio.ident(participant_entity_id.name) }}
    ) AS interactions
        ON interactions.person_entity_id = relationships.person_entity_id
        AND interactions.object_entity_id = relationships.object_entity_id
{%- endif %}
{%- if people is not none %}
    WHERE persons."userId" IN (
        SELECT "userId"
        FROM {{ people }}
    )
{%- endif %}
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY objects."groupId", persons."userId"
        ORDER BY relationships.{{ cio.ident(updated_at.name) }} DESC NULLS LAST, relationships.{{ cio.ident(relationship_id.name) }} ASC
    ) = 1
) AS pairs
{%- endset %}
SELECT
    attributed."groupId" AS "groupId",
    attributed."objectTypeId" AS "objectTypeId",
    attributed."userId" AS "userId",
    attributed."timestamp" AS "timestamp",
{%- if attributes %}
    OBJECT_CONSTRUCT(
{%- for attribute in attributes %}
        {{ cio.literal(attribute.name) }}, attributed.cio_attribute_{{ loop.index }}{{ ',' if not loop.last }}
{%- endfor %}
    ) AS "relationshipAttributes"
{%- else %}
    OBJECT_CONSTRUCT() AS "relationshipAttributes"
{%- endif %}
FROM (
    {{ pairs_select | indent(4) }}
) AS attributed
{%- endmacro %}
