{#-
  nexus.customer_io_objects: a Customer.io Group (objects) sync table.

  One row per object; columns, in order:
    "groupId"       <- group_id_column (a column name or any SQL expression)
    "objectTypeId"  <- object_type_id, required, as a string literal ('1')
    "timestamp"     <- _updated_at as a UTC TIMESTAMP_NTZ (cio.utc)
    every other column of nexus_entities, in catalog order, as an object
    attribute named by its lower-case name (or its rename target); timestamp
    types as UTC TIMESTAMP_NTZ (see customer_io_identify). Not attributes: entity_id,
    entity_type, _processed_at, traits_entity_id, the groupId column and
    every ignore_traits column. _created_at is renamed created_at.

  Rows kept: entity_type = '<entity_type>', a groupId, and every filter.
  One row per groupId: the latest _updated_at wins (NULLs last), ties broken
  by entity_id ascending.

  Renders one SELECT with no trailing semicolon, so it can sit in a CTE.
-#}
{% macro customer_io_objects(
    object_type_id=none,
    entity_type='group',
    group_id_column='entity_id',
    ignore_traits=[],
    rename_traits={},
    filters=[],
    entity_type_column='entity_type',
    entity_id_column='entity_id',
    updated_at_column='_updated_at'
) -%}
{%- set object_type = cio.object_type_id(object_type_id, argument='object_type_id') -%}
{%- set relation = ref('nexus_entities') -%}
{%- set columns = adapter.get_columns_in_relation(relation) -%}
{%- do config(cio_sync='group', cio_timestamp_column='timestamp', cio_object_type_id=object_type_id | string | trim) -%}

{%- set entity_type_column = cio.column(columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=relation) -%}
{%- set entity_id = cio.column(columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the tie-breaker column', relation=relation) -%}
{%- set updated_at = cio.column(columns, updated_at_column, argument='updated_at_column', default='_updated_at', role='the timestamp column', relation=relation) -%}
{%- set group_id = cio.id_expression(columns, group_id_column, argument='group_id_column', relation=relation) -%}
{%- set traits = cio.traits(
    columns,
    exclude=[entity_id.name, entity_type_column.name, '_processed_at', 'traits_entity_id'] + ([group_id.column] | reject('none') | list),
    ignore=ignore_traits,
    default_rename={'_created_at': 'created_at'},
    rename=rename_traits,
    outputs={
        'groupId': 'group_id_column (' ~ group_id.sql ~ ')',
        'objectTypeId': 'object_type_id',
        'timestamp': 'the update time (' ~ updated_at.name ~ ')',
        'userId': 'the Customer.io field userId (it would make the rows relationships)',
        'anonymousId': 'the Customer.io field anonymousId',
        'relationshipAttributes': 'the Customer.io field relationshipAttributes'
    },
    relation=relation
) -%}
{%- set filters = [filters] if filters is string else filters -%}
SELECT
    {{ group_id.sql }} AS "groupId",
    {{ object_type }} AS "objectTypeId",
    {{ cio.utc(cio.ident(updated_at.name), updated_at.data_type) }} AS "timestamp"
{%- for trait in traits %},
    {{ trait.expr }} AS {{ trait.alias }}
{%- endfor %}
FROM {{ relation }}
WHERE {{ cio.ident(entity_type_column.name) }} = {{ cio.literal(entity_type) }}
  AND {{ group_id.sql if group_id.is_column else '(' ~ group_id.sql ~ ')' }} IS NOT NULL
{%- for filter in filters %}
  AND ({{ filter }})
{%- endfor %}
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY {{ group_id.sql }}
    ORDER BY {{ cio.ident(updated_at.name) }} DESC NULLS LAST, {{ cio.ident(entity_id.name) }} ASC
) = 1
{%- endmacro %}
