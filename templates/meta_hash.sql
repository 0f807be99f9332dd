{#-
  nexus.meta_hash(expr, kind): a Meta Conversions API user_data value,
  normalised the way Meta's Customer Information Parameters page says and
  hashed: SHA2(normalised, 256), 64 lower-case hex characters. A value
  that normalises to nothing (NULL, blanks, an address that is not one, an
  unknown country) is NULL, never the hash of an empty string.

  expr          a column or any SQL expression (text; numbers are read as text)
  kind          em, ph, fn, ln, ge, db, ct, st, zp, country or external_id
  country       st and zp: SQL for the row's country (a column, or a literal
                such as "'us'"): US states become their two-letter code and
                US zip codes their first five digits
  calling_code  ph: the calling code of numbers written without one ('1', '44')
  date_format   db: 'date' for a DATE or TIMESTAMP, else the layout of the text
                (default 'YYYY-MM-DD'; 'MM/DD/YYYY', 'DD.MM.YYYY', 'YYYYMMDD', …)

  nexus.meta_normalize(expr, kind, ...) is the normalised text, unhashed
  (for checking a rule on real data).
-#}
{% macro meta_hash(expr, kind, country=none, calling_code=none, date_format=none) -%}
SHA2({{ cio.meta_normalize(expr, kind, country=country, calling_code=calling_code, date_format=date_format) }}, 256)
{%- endmacro %}

{% macro meta_normalize(expr, kind, country=none, calling_code=none, date_format=none) -%}
{{ cio.meta_normalize(expr, kind, country=country, calling_code=calling_code, date_format=date_format) }}
{%- endmacro %}
