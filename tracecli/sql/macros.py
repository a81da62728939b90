"""The SQL macro vocabulary every layer speaks: lenient casts for the shapes real logs take, and
the concepts defined once for ingest, store and read alike (what a call is, its total tokens,
its cost at a rate). Installed on every connection the store opens."""

from __future__ import annotations

import duckdb

from tracecli.sql.template import literal

# Spans that are model calls (priced, counted as calls, rolled up): the rest are steps around them.
CALL_KINDS = ("llm", "embedding")

MACROS = [
    f"CREATE OR REPLACE TEMP MACRO tc_is_call(kind) AS kind IN ({', '.join(map(literal, CALL_KINDS))})",
    # A call's total tokens: the logged total, else prompt + completion; NULL when none is known.
    """CREATE OR REPLACE TEMP MACRO tc_total_tokens(t, p, c) AS CASE
       WHEN t IS NOT NULL THEN t WHEN p IS NULL AND c IS NULL THEN NULL
       ELSE coalesce(p, 0) + coalesce(c, 0) END""",
    # A call's cost at USD-per-token rates; cached prompt tokens are billed at their own rate.
    """CREATE OR REPLACE TEMP MACRO tc_priced(p, cached, c, r_in, r_cached, r_out) AS
       (coalesce(p, 0) - coalesce(cached, 0)) * r_in + coalesce(cached, 0) * r_cached
       + coalesce(c, 0) * r_out""",
    # A JSON value that may itself be a JSON-encoded string (bodies logged as strings). A string
    # is told by its first character: json_type would parse the whole body to say the same.
    """CREATE OR REPLACE TEMP MACRO tc_json(x) AS
       CASE WHEN starts_with(ltrim(left(CAST(x AS VARCHAR), 64)), '"') AND json_valid(x->>'$')
            THEN (x->>'$')::JSON ELSE x END""",
    # Numbers that may arrive as strings ("0.01", "12") or junk: NULL rather than an error.
    "CREATE OR REPLACE TEMP MACRO tc_num(x) AS TRY_CAST(trim(CAST(x AS VARCHAR), '\" ') AS DOUBLE)",
    "CREATE OR REPLACE TEMP MACRO tc_int(x) AS TRY_CAST(round(tc_num(x)) AS BIGINT)",
    # Booleans as true/false, 1/0, "true"/"True"/"1".
    """CREATE OR REPLACE TEMP MACRO tc_bool(x) AS
       CASE lower(trim(CAST(x AS VARCHAR), '\" ')) WHEN 'true' THEN true WHEN '1' THEN true
            WHEN 'false' THEN false WHEN '0' THEN false ELSE NULL END""",
    # Timestamps as ISO strings, "YYYY-MM-DD hh:mm:ss.ffffff", or epoch seconds / millis / micros / nanos.
    """CREATE OR REPLACE TEMP MACRO tc_time(x) AS
       CASE WHEN tc_num(x) IS NULL THEN TRY_CAST(TRY_CAST(trim(CAST(x AS VARCHAR), '\" ') AS TIMESTAMPTZ) AS TIMESTAMP)
            WHEN abs(tc_num(x)) >= 1e17 THEN TRY_CAST(make_timestamp(CAST(tc_num(x) / 1000 AS BIGINT)) AS TIMESTAMP)
            WHEN abs(tc_num(x)) >= 1e14 THEN TRY_CAST(make_timestamp(CAST(tc_num(x) AS BIGINT)) AS TIMESTAMP)
            WHEN abs(tc_num(x)) >= 1e11 THEN TRY_CAST(make_timestamp(CAST(tc_num(x) * 1000 AS BIGINT)) AS TIMESTAMP)
            ELSE TRY_CAST(make_timestamp(CAST(tc_num(x) * 1000000 AS BIGINT)) AS TIMESTAMP) END""",
    # A JSON object (or JSON string holding one) as a flat string map; anything else is NULL
    # (the cast fails on arrays, strings and numbers, so no json_type parse first).
    """CREATE OR REPLACE TEMP MACRO tc_map(x) AS TRY_CAST(tc_json(x) AS MAP(VARCHAR, VARCHAR))""",
    # A JSON string value as text; other JSON values as their JSON text.
    """CREATE OR REPLACE TEMP MACRO tc_text(x) AS
       CASE WHEN json_type(x) = 'VARCHAR' THEN x->>'$' ELSE CAST(x AS VARCHAR) END""",
    # Drop NULL-valued entries so that tags read cleanly.
    """CREATE OR REPLACE TEMP MACRO tc_clean_map(m) AS
       CASE WHEN m IS NULL THEN NULL ELSE map_from_entries(list_filter(map_entries(m), lambda e: e.value IS NOT NULL)) END""",
    # Message content as text: a string, or the text parts of a content array.
    """CREATE OR REPLACE TEMP MACRO tc_content(x) AS
  CASE WHEN json_type(x) = 'VARCHAR' THEN x->>'$'
       WHEN json_type(x) = 'ARRAY' THEN array_to_string(
         list_filter(list_transform(json_extract(x, '$[*]'),
           lambda p: coalesce(p->>'text', CASE WHEN json_type(p) = 'VARCHAR' THEN p->>'$' END)),
           lambda t: t IS NOT NULL), '')
       WHEN x IS NULL THEN NULL ELSE CAST(x AS VARCHAR) END""",
]


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the vocabulary on `con` (temporary: it lives as long as the connection)."""
    for sql in MACROS:
        con.execute(sql)
