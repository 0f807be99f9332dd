{#-
  nexus.moengage_aliases: MoEngage user merges. People of nexus_entities who
  share one dedupe_column value (LOWER(TRIM(...)), the email by default)
  under several customer_ids are one user: each other customer_id merges
  into the one nexus.moengage_users keeps for that value (the latest
  _updated_at, NULLs last, ties broken by entity_id ascending).

  Columns, in order:
    "merged_user"    <- a customer_id that is merged away
    "retained_user"  <- the customer_id it merges into

  One row per merged_user (the smallest retained_user when one id has
  several). Renders one SELECT with no trailing semicolon.
-#}
{% macro moengage_aliases(
    entity_type='person',
    customer_id_column='user_id',
    dedupe_column='email',
    entity_type_column='entity_type',
    entity_id_column='entity_id',
    updated_at_column='_updated_at'
) -%}
{%- set relation = ref('nexus_entities') -%}
{%- set columns = adapter.get_columns_in_relation(relation) -%}
{%- do config(cio_destination='moengage', cio_sync='aliases') -%}
{%- set entity_type_column = cio.column(columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=relation) -%}
{%- set entity_id = cio.column(columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the tie-breaker column', relation=relation) -%}
{%- set updated_at = cio.column(columns, updated_at_column, argument='updated_at_column', default='_updated_at', role='the timestamp column', relation=relation) -%}
{%- set dedupe = cio.column(columns, dedupe_column, argument='dedupe_column', default='email', role='the column naming one user', relation=relation) -%}
{%- set customer_id = cio.id_expression(columns, customer_id_column, argument='customer_id_column', relation=relation) -%}
{%- set same_user = 'LOWER(TRIM(' ~ cio.ident(dedupe.name) ~ '))' -%}
SELECT
    ids.customer_id AS "merged_user",
    ids.retained AS "retained_user"
FROM (
    SELECT
        {{ customer_id.sql }} AS customer_id,
        FIRST_VALUE({{ customer_id.sql }}) OVER (
            PARTITION BY {{ same_user }}
            ORDER BY {{ cio.ident(updated_at.name) }} DESC NULLS LAST, {{ cio.ident(entity_id.name) }} ASC
        ) AS retained
    FROM {{ relation }}
    WHERE {{ cio.ident(entity_type_column.name) }} = {{ cio.literal(entity_type) }}
      AND {{ same_user }} IS NOT NULL
      AND {{ customer_id.sql if customer_id.is_column else '(' ~ customer_id.sql ~ ')' }} IS NOT NULL
) AS ids
WHERE ids.customer_id <> ids.retained
QUALIFY ROW_NUMBER() OVER (PARTITION BY ids.customer_id ORDER BY ids.retained ASC) = 1
{%- endmacro %}
