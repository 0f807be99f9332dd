{#-
  nexus.rudderstack_customer_io_objects: objects for RudderStack's
  Customer.io destination, read by RudderStack's reverse ETL and sent as
  group calls.

  One row per object; columns, in order:
    "action"        'identify' (create or update the object); a row the
                    model stops returning becomes a tombstone with 'delete'
                    when the table is change-tracked (see README, "RudderStack")
    "groupId"       <- group_id_column (a column name or any SQL expression)
    "objectTypeId"  <- object_type_id, required, as a string literal ('1')
    every other column of nexus_entities, as nexus.customer_io_objects
    picks, names and converts them (ignore_traits, rename_traits; UTC
    timestamps), each an attribute of the object. No "timestamp": RudderStack
    would send it as an attribute; change tracking's "__cio_sql_changed_at"
    is the cursor.

  Rows kept and deduplicated as by nexus.customer_io_objects, whose
  arguments this macro takes. Renders one SELECT with no trailing semicolon.
-#}
{% macro rudderstack_customer_io_objects(
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
{%- set objects = nexus.customer_io_objects(
    object_type_id=object_type_id,
    entity_type=entity_type,
    group_id_column=group_id_column,
    ignore_traits=ignore_traits,
    rename_traits=rename_traits,
    filters=filters,
    entity_type_column=entity_type_column,
    entity_id_column=entity_id_column,
    updated_at_column=updated_at_column
) -%}
{%- do config(cio_destination='rudderstack', cio_sync='objects') -%}
SELECT
    'identify' AS "action",
    objects.* EXCLUDE ("timestamp")
FROM (
    {{ objects | trim | indent(4) }}
) AS objects
{%- endmacro %}
