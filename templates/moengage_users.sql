{#-
  nexus.moengage_users: MoEngage users, one row per person of nexus_entities.

  Columns, in order:
    "customer_id"  <- customer_id_column (a column name or any SQL expression)
    every other column nexus.customer_io_identify makes a trait (same
    arguments: ignore_traits, rename_traits, filters, …; UTC timestamps),
    each an attribute of the user; no "timestamp".

  Rows kept and deduplicated as by nexus.customer_io_identify, and only rows
  with a customer_id (MoEngage requires it). Renders one SELECT with no
  trailing semicolon.
-#}
{% macro moengage_users(
    entity_type='person',
    customer_id_column='user_id',
    dedupe_column='email',
    ignore_traits=[],
    rename_traits={},
    filters=[],
    entity_type_column='entity_type',
    entity_id_column='entity_id',
    updated_at_column='_updated_at'
) -%}
{%- set people = nexus.customer_io_identify(
    entity_type=entity_type,
    user_id_column=customer_id_column,
    dedupe_column=dedupe_column,
    ignore_traits=ignore_traits,
    rename_traits=rename_traits,
    filters=filters,
    entity_type_column=entity_type_column,
    entity_id_column=entity_id_column,
    updated_at_column=updated_at_column
) -%}
{%- do config(cio_destination='moengage', cio_sync='users') -%}
SELECT
    people."userId" AS "customer_id",
    people.* EXCLUDE ("userId", "timestamp")
FROM (
    {{ people | trim | indent(4) }}
) AS people
WHERE people."userId" IS NOT NULL
{%- endmacro %}
