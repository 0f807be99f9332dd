{#-
  nexus.bluecore_customers: Bluecore customers, one row per email of the
  people of nexus_entities.

  Columns, in order:
    "email"  <- email_column (a column name or any SQL expression; by
                default the email lower-cased and trimmed): the customer,
                Bluecore's distinct_id
    every other column nexus.customer_io_identify makes a trait (same
    arguments: ignore_traits, rename_traits, filters, …; UTC timestamps),
    each an attribute of the customer; no "timestamp", and not the
    dedupe_column (the email itself). Bluecore wants
    lower-case attribute names without spaces or dashes (CIO214 otherwise).

  Rows deduplicated per email as by nexus.customer_io_identify (latest
  _updated_at wins), and only rows with an email. Renders one SELECT with
  no trailing semicolon.
-#}
{% macro bluecore_customers(
    entity_type='person',
    email_column='LOWER(TRIM(email))',
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
    user_id_column=email_column,
    dedupe_column=dedupe_column,
    ignore_traits=ignore_traits + [dedupe_column],
    rename_traits=rename_traits,
    filters=filters,
    entity_type_column=entity_type_column,
    entity_id_column=entity_id_column,
    updated_at_column=updated_at_column
) -%}
{%- do config(cio_destination='bluecore', cio_sync='customers') -%}
SELECT
    people."userId" AS "email",
    people.* EXCLUDE ("userId", "timestamp")
FROM (
    {{ people | trim | indent(4) }}
) AS people
WHERE people."userId" IS NOT NULL
{%- endmacro %}
