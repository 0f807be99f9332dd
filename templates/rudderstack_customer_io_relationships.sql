{#-
  nexus.rudderstack_customer_io_relationships: relationships for
  RudderStack's Customer.io destination, read by RudderStack's reverse ETL
  and sent as group calls with a userId.

  One row per (object, person) pair, as nexus.customer_io_relationships
  picks them (its arguments, but none of its relationship attributes:
  RudderStack sends none); columns, in order:
    "action"        'add_relationships'; a pair the model stops returning
                    becomes a tombstone with 'delete_relationships' when the
                    table is change-tracked (see README, "RudderStack")
    "groupId"       <- group_id_column of the object entity
    "objectTypeId"  <- object_type_id, required, as a string literal ('1')
    "userId"        <- user_id_column of the person entity

  people_model (none by default) keeps only the people of an Identify model.
  Renders one SELECT with no trailing semicolon.
-#}
{% macro rudderstack_customer_io_relationships(
    object_type_id=none,
    object_entity_type='group',
    person_entity_type='person',
    user_id_column='email',
    group_id_column='entity_id',
    relationship_types=[],
    active_only=true,
    filters=[],
    people_model=none,
    updated_at_column='_updated_at',
    entity_id_column='entity_id',
    entity_type_column='entity_type'
) -%}
{%- set pairs = nexus.customer_io_relationships(
    object_type_id=object_type_id,
    object_entity_type=object_entity_type,
    person_entity_type=person_entity_type,
    user_id_column=user_id_column,
    group_id_column=group_id_column,
    relationship_types=relationship_types,
    active_only=active_only,
    derived_attributes=[],
    filters=filters,
    people_model=people_model,
    updated_at_column=updated_at_column,
    entity_id_column=entity_id_column,
    entity_type_column=entity_type_column
) -%}
{%- do config(cio_destination='rudderstack', cio_sync='relationships') -%}
SELECT
    'add_relationships' AS "action",
    pairs."groupId" AS "groupId",
    pairs."objectTypeId" AS "objectTypeId",
    pairs."userId" AS "userId"
FROM (
    {{ pairs | trim | indent(4) }}
) AS pairs
{%- endmacro %}
