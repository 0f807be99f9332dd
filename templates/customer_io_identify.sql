{#-
  nexus.customer_io_identify: a Customer.io Identify (people) sync table.

  One row per person, deduplicated; columns, in order:
    "userId"       <- user_id_column (a column name or any SQL expression)
    "anonymousId"  <- anonymous_id_column, only when given
    "timestamp"    <- _updated_at as a UTC TIMESTAMP_NTZ (cio.utc)
    every other column of nexus_entities, in catalog order, as a trait named
    by its lower-case name (or its rename target); timestamp types as UTC
    TIMESTAMP_NTZ (TO_TIMESTAMP_NTZ of NTZ columns, taken as UTC;
    CONVERT_TIMEZONE('UTC', col)::TIMESTAMP_NTZ of TZ and LTZ columns).

  Dedupe: per LOWER(TRIM(dedupe_column)) for text (the raw value otherwise),
  the row with the latest _updated_at wins (NULLs last), ties broken by
  entity_id ascending. Rows whose key is NULL are all kept.

  Renders one SELECT with no trailing semicolon, so it can sit in a CTE.
-#}
{% macro customer_io_identify(
    entity_type='person',
    user_id_column='user_id',
    anonymous_id_column=none,
    dedupe_column='email',
    ignore_traits=[],
    rename_traits={},
    filters=[],
    entity_type_column='entity_type',
    entity_id_column='entity_id',
    updated_at_column='_updated_at'
) -%}
{%- set relation = ref('nexus_entities') -%}
{%- set columns = adapter.get_columns_in_relation(relation) -%}
{%- do config(cio_sync='identify', cio_timestamp_column='timestamp') -%}

{%- set entity_type_column = cio.column(columns, entity_type_column, argument='entity_type_column', default='entity_type', role='the entity type column', relation=relation) -%}
{%- set entity_id = cio.column(columns, entity_id_column, argument='entity_id_column', default='entity_id', role='the tie-breaker column', relation=relation) -%}
{%- set updated_at = cio.column(columns, updated_at_column, argument='updated_at_column', default='_updated_at', role='the timestamp column', relation=relation) -%}
{%- set user_id = cio.id_expression(columns, user_id_column, argument='user_id_column', relation=relation) -%}
{%- set id_columns = [user_id.column] -%}
{%- set outputs = {'userId': 'user_id_column (' ~ user_id.sql ~ ')', 'timestamp': updated_at.name} -%}
{%- if anonymous_id_column is not none -%}
  {%- set anonymous_id = cio.id_expression(columns, anonymous_id_column, argument='anonymous_id_column', relation=relation) -%}
  {%- set id_columns = id_columns + [anonymous_id.column] -%}
  {%- set outputs = {'userId': outputs.userId, 'anonymousId': 'anonymous_id_column (' ~ anonymous_id.sql ~ ')', 'timestamp': updated_at.name} -%}
{%- endif -%}
{%- set dedupe = cio.column(columns, dedupe_column, argument='dedupe_column', relation=relation) -%}
{%- set traits = cio.traits(
    columns,
    exclude=[entity_id.name, entity_type_column.name, '_processed_at', 'traits_entity_id'] + (id_columns | reject('none') | list),
    ignore=ignore_traits,
    default_rename={'_created_at': 'created_at'},
    rename=rename_traits,
    outputs=outputs,
    relation=relation
) -%}
{%- set filters = [filters] if filters is string else filters -%}
SELECT
    {{ user_id.sql }} AS "userId",
{%- if anonymous_id_column is not none %}
    {{ anonymous_id.sql }} AS "anonymousId",
{%- endif %}
    {{ cio.utc(cio.ident(updated_at.name), updated_at.data_type) }} AS "timestamp"
{%- for trait in traits %},
    {{ trait.expr }} AS {{ trait.alias }}
{%- endfor %}
FROM {{ relation }}
WHERE {{ cio.ident(entity_type_column.name) }} = {{ cio.literal(entity_type) }}
{%- if anonymous_id_column is not none %}
  AND ({{ user_id.sql }} IS NOT NULL OR {{ anonymous_id.sql }} IS NOT NULL)
{%- else %}
  AND {{ user_id.sql if user_id.is_column else '(' ~ user_id.sql ~ ')' }} IS NOT NULL
{%- endif %}
{%- for filter in filters %}
  AND ({{ filter }})
{%- endfor %}
QUALIFY {{ cio.dedupe_key(dedupe) }} IS NULL
    OR ROW_NUMBER() OVER (
        PARTITION BY {{ cio.dedupe_key(dedupe) }}
        ORDER BY {{ cio.ident(updated_at.name) }} DESC NULLS LAST, {{ cio.ident(entity_id.name) }} ASC
    ) = 1
{%- endmacro %}
