"""The SQL macro vocabulary every layer speaks: lenient casts for the shapes real logs take, and
the concepts defined once for ingest, store and read alike (what a call is, its total tokens,
its cost at a rate). Installed on every connection the store opens."""

from __future__ import annotations

import duckdb

from tracecli.sql.template import literal

# Spans that are model calls (priced, counted as calls, rolled up): the rest are steps around them.
CALL_KINDS = ("llm", "embedding")

# A span's metadata holds the tags a user set (Portkey metadata, LiteLLM request tags, Langfuse
# trace tags and metadata, OpenInference tag.tags and metadata, Traceloop association
# properties, session and user ids) and, under keys in OpenTelemetry's reserved `otel.`
# namespace, what the instrumentation recorded: the resource, the instrumentation scope and
# span attributes no column holds (framework dumps). Those are kept for `show --full` and JSON,
# and are never tags: no header, trace summary or tag column shows them.
SYSTEM_PREFIX = "otel."
RESOURCE_KEY = "otel.resource"  # the resource's attributes, as a JSON object
SCOPE_KEY = "otel.scope"  # the instrumentation scope: {name, version, attributes}
SCOPE_ATTRIBUTES_KEY = "otel.scope.attributes"  # the scope's attributes alone, where only they are known
ATTRIBUTES_KEY = "otel.attributes"  # span attributes, as a JSON object


def is_system_key(key: str) -> bool:
    """A metadata key the instrumentation set, not the user (the `tc_user_tags` rule)."""
    return key.startswith(SYSTEM_PREFIX)


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
    # Money as every format writes it (render.output.money, README: Money): rounded to 10
    # significant digits, so that sums of binary fractions print as the amounts they are
    # (0.0001275, not 0.00012749999999999998). printf's %.10g rounds as Python's does; + 0.0
    # turns -0 into 0.
    "CREATE OR REPLACE TEMP MACRO tc_money(x) AS CAST(printf('%.10g', x) AS DOUBLE) + 0.0",
    # The same as a plain decimal, never an exponent (CSV cells: 0.00000022, not 2.2e-07), as
    # render.output.money_text writes it. %.10g writes an exponent below 1e-4 and from 1e10 on,
    # of a mantissa of at most 10 digits (d.ddd), which is written out here.
    """CREATE OR REPLACE TEMP MACRO tc_plain_digits(sign, digits, e) AS sign || CASE
       WHEN e < 0 THEN '0.' || repeat('0', -e - 1) || digits
       ELSE digits || repeat('0', e - length(digits) + 1) END""",
    """CREATE OR REPLACE TEMP MACRO tc_plain_number(s) AS CASE WHEN NOT contains(s, 'e') THEN s
       ELSE tc_plain_digits(CASE WHEN starts_with(s, '-') THEN '-' ELSE '' END,
                            replace(split_part(ltrim(s, '-'), 'e', 1), '.', ''),
                            CAST(split_part(s, 'e', 2) AS INTEGER)) END""",
    """CREATE OR REPLACE TEMP MACRO tc_money_text(x) AS
       tc_plain_number(printf('%.10g', tc_money(x)))""",
    # A JSON value that may itself be a JSON-encoded string (bodies logged as strings). A string
    # is told by its first character: json_type would parse the whole body to say the same.
    """CREATE OR REPLACE TEMP MACRO tc_json(x) AS
       CASE WHEN starts_with(ltrim(left(CAST(x AS VARCHAR), 64)), '"') AND json_valid(x->>'$')
            THEN (x->>'$')::JSON ELSE x END""",
    # Numbers that may arrive as strings ("0.01", "12") or junk: NULL rather than an error. NaN
    # and infinities (`NaN`, `Infinity`, `1e400`) are unknown too: nothing downstream can
    # sum, compare or print them.
    """CREATE OR REPLACE TEMP MACRO tc_num(x) AS
       CASE WHEN isfinite(TRY_CAST(trim(CAST(x AS VARCHAR), '\" ') AS DOUBLE))
            THEN TRY_CAST(trim(CAST(x AS VARCHAR), '\" ') AS DOUBLE) END""",
    # Integers for BIGINT columns (tokens), and for INTEGER ones (http_status, retries): a value
    # out of the column's range is unknown, where the store's implicit cast would fail the file.
    "CREATE OR REPLACE TEMP MACRO tc_int(x) AS TRY_CAST(round(tc_num(x)) AS BIGINT)",
    "CREATE OR REPLACE TEMP MACRO tc_int32(x) AS TRY_CAST(tc_int(x) AS INTEGER)",
    # Token counts: one call's past a trillion is no count, and the store's totals of a few such
    # would overflow BIGINT (and fail the ingest).
    """CREATE OR REPLACE TEMP MACRO tc_tokens(x) AS
       CASE WHEN abs(tc_num(x)) < 1e12 THEN CAST(round(tc_num(x)) AS BIGINT) END""",
    # Booleans as true/false, 1/0, "true"/"True"/"1".
    """CREATE OR REPLACE TEMP MACRO tc_bool(x) AS
       CASE lower(trim(CAST(x AS VARCHAR), '\" ')) WHEN 'true' THEN true WHEN '1' THEN true
            WHEN 'false' THEN false WHEN '0' THEN false ELSE NULL END""",
    # Epoch seconds, millis, micros or nanos, told apart by magnitude, as microseconds.
    """CREATE OR REPLACE TEMP MACRO tc_epoch_us(n) AS
       CASE WHEN abs(n) >= 1e17 THEN n / 1000 WHEN abs(n) >= 1e14 THEN n
            WHEN abs(n) >= 1e11 THEN n * 1000 ELSE n * 1000000 END""",
    # Only times Python's datetime can hold (years 1 to 9999): DuckDB hands any other to Python
    # as a string, which `show` prints as "0001-01-01 (BC)" and `replay` cannot subtract.
    """CREATE OR REPLACE TEMP MACRO tc_datetime(t) AS
       CASE WHEN t BETWEEN TIMESTAMP '0001-01-01' AND TIMESTAMP '9999-12-31 23:59:59.999999'
            THEN t END""",
    # Timestamps as ISO strings, "YYYY-MM-DD hh:mm:ss.ffffff", or epoch numbers; absurd ones
    # (year 0, 1e300 seconds) are unknown, and the record keeps its other fields. Epoch numbers
    # are bounded before make_timestamp, which fails rather than returning NULL: from 0001-01-01
    # up to (not including) 10000-01-01, in microseconds.
    """CREATE OR REPLACE TEMP MACRO tc_time(x) AS
       CASE WHEN tc_num(x) IS NULL
            THEN tc_datetime(TRY_CAST(TRY_CAST(trim(CAST(x AS VARCHAR), '\" ') AS TIMESTAMPTZ) AS TIMESTAMP))
            WHEN tc_epoch_us(tc_num(x)) >= -62135596800e6 AND tc_epoch_us(tc_num(x)) < 253402300800e6
            THEN make_timestamp(CAST(tc_epoch_us(tc_num(x)) AS BIGINT)) END""",
    # A JSON object (or JSON string holding one) as a flat string map; anything else is NULL
    # (the cast fails on arrays, strings and numbers, so no json_type parse first).
    """CREATE OR REPLACE TEMP MACRO tc_map(x) AS TRY_CAST(tc_json(x) AS MAP(VARCHAR, VARCHAR))""",
    # A JSON string value as text; other JSON values as their JSON text.
    """CREATE OR REPLACE TEMP MACRO tc_text(x) AS
       CASE WHEN json_type(x) = 'VARCHAR' THEN x->>'$' ELSE CAST(x AS VARCHAR) END""",
    # The tags a user set among a span's metadata (SYSTEM_PREFIX above says which are not); a map
    # without such keys is returned as it is, which costs a fraction of rebuilding it.
    f"""CREATE OR REPLACE TEMP MACRO tc_user_tags(m) AS
       CASE WHEN len(list_filter(map_keys(m), lambda k: starts_with(k, {literal(SYSTEM_PREFIX)}))) = 0 THEN m
            ELSE map_from_entries(list_filter(map_entries(m),
                   lambda e: NOT starts_with(e.key, {literal(SYSTEM_PREFIX)}))) END""",
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
       WHEN x IS NULL OR json_type(x) = 'NULL' THEN NULL ELSE CAST(x AS VARCHAR) END""",
]


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the vocabulary on `con` (temporary: it lives as long as the connection)."""
    for sql in MACROS:
        con.execute(sql)
