"""Per-trace summaries, derived from spans at ingest.

They are rebuilt only for the traces an ingest touched (listed in the temp table `affected`),
so appending to a large store costs in proportion to what was appended."""

from __future__ import annotations

import duckdb

from tracecli.sql import toolcalls
from tracecli.sql.template import fill
from tracecli.store.schema import trace_key_sql

# The stored summaries of the traces in `affected` (row id, tool calls), found by their 64-bit
# keys first: comparing keys is cheaper than comparing every stored trace id. The materialized
# CTE keeps DuckDB from reading the ids of all rows to match them.
AFFECTED_SUMMARIES = """
WITH by_key AS MATERIALIZED (
  SELECT rowid AS rid, trace_id, tool_calls FROM trace_summary
  WHERE trace_key IN (SELECT trace_key FROM affected))
SELECT rid, tool_calls FROM by_key WHERE trace_id IN (SELECT trace_id FROM affected)"""

_REBUILD_SUMMARY = """
INSERT INTO trace_summary BY NAME
-- the columns it needs only: a CTE read twice is materialized, and the bodies are most of a span
WITH s AS NOT MATERIALIZED (SELECT trace_id, span_id, start_time, source_row, duration_ms, kind, model, prompt_tokens,
                  completion_tokens, total_tokens, cost_usd, cost_source, status,
                  tc_user_tags(metadata) AS metadata
           FROM spans WHERE {{scope}}),
-- A trace's tags: per key, the value its earliest span gives, of the tags a user set (what the
-- instrumentation recorded stays with the spans). Most traces tag every span alike (one hash,
-- 64 bits, tells): their tags are that map; the others are unnested key by key.
shapes AS (
  SELECT trace_id, min(hash(metadata)) = max(hash(metadata)) AS uniform, any_value(metadata) AS one
  FROM s WHERE metadata IS NOT NULL GROUP BY trace_id
),
tags AS (
  SELECT trace_id, map_from_entries(list_sort(list({'key': k, 'value': v}))) AS tags
  FROM (SELECT trace_id, e.key AS k, first(e.value ORDER BY start_time, source_row, span_id) AS v
        FROM (SELECT trace_id, span_id, start_time, source_row, unnest(map_entries(metadata)) AS e
              FROM s WHERE metadata IS NOT NULL
                AND trace_id IN (SELECT trace_id FROM shapes WHERE NOT uniform))
        GROUP BY trace_id, e.key)
  GROUP BY trace_id
  UNION ALL
  SELECT trace_id, map_from_entries(list_sort(map_entries(one))) FROM shapes
  WHERE uniform AND cardinality(one) > 0
),
tools AS ({{tool_counts}}),
agg AS (
  SELECT trace_id,
         min(start_time) AS start_time,
         max(TRY(start_time + to_milliseconds(coalesce(duration_ms, 0)))) AS end_time,  -- absurd durations: NULL
         count(*) AS spans,
         count(*) FILTER (WHERE kind = 'llm') AS llm_calls,
         list(DISTINCT model ORDER BY model) FILTER (WHERE model IS NOT NULL AND tc_is_call(kind)) AS models,
         sum(prompt_tokens) AS prompt_tokens,
         sum(completion_tokens) AS completion_tokens,
         sum(coalesce(tc_total_tokens(total_tokens, prompt_tokens, completion_tokens), 0)) AS total_tokens,
         fsum(cost_usd) AS cost_usd,  -- order-independent: same total on every run
         count(*) FILTER (WHERE cost_source = 'unpriced') AS unpriced_calls,
         count(*) FILTER (WHERE status = 'error') AS errors
  FROM s GROUP BY trace_id
)
SELECT agg.trace_id, agg.start_time, agg.end_time,
       epoch_ms(agg.end_time) - epoch_ms(agg.start_time) AS duration_ms,
       spans, llm_calls, coalesce(tools.n, 0) AS tool_calls, models, prompt_tokens,
       completion_tokens, total_tokens, cost_usd, unpriced_calls, errors,
       CASE WHEN errors > 0 THEN 'error' ELSE 'ok' END AS status, tags.tags AS tags,
       {{trace_key}} AS trace_key
FROM agg LEFT JOIN tags USING (trace_id) LEFT JOIN tools USING (trace_id)
"""

_AFFECTED = """CREATE OR REPLACE TEMP TABLE affected AS
SELECT trace_id, {{trace_key}} AS trace_key
FROM (SELECT DISTINCT trace_id FROM spans WHERE ingest_id = $ingest_id)"""


def refresh(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Rebuild the summaries of the traces ingest `ingest_id` touched, listed into the temp table
    `affected`.

    Traces that are wholly new (the usual case) are derived from this ingest's rows alone, which
    are the store's newest, so the work is proportional to the ingest, not the store. A trace
    that already had spans is rebuilt from all of them."""
    con.execute(fill(_AFFECTED, trace_key=trace_key_sql("trace_id")), {"ingest_id": ingest_id})
    scope, params = _rebuild_scope(con, ingest_id)
    found = con.execute(fill("SELECT count(*) FROM spans WHERE {{scope}} AND kind = 'tool'",
                             scope=scope), params).fetchone()
    counts = toolcalls.counts(tool_spans=bool(found and found[0]))
    con.execute(fill(_REBUILD_SUMMARY, tool_counts=counts, scope=scope,
                     trace_key=trace_key_sql("agg.trace_id")), params)


def _rebuild_scope(con: duckdb.DuckDBPyConnection, ingest_id: int) -> tuple[str, dict[str, int]]:
    """The spans to summarise, and their parameters: this ingest's, unless a trace it touched
    was stored before (its stored summary is dropped, and all its spans are read again)."""
    row = con.execute(fill("SELECT count(*) FROM ({{affected}})",
                           affected=AFFECTED_SUMMARIES)).fetchone()
    if not (row and row[0]):
        return "ingest_id = $ingest_id", {"ingest_id": ingest_id}
    con.execute(fill("DELETE FROM trace_summary WHERE rowid IN (SELECT rid FROM ({{affected}}))",
                     affected=AFFECTED_SUMMARIES))
    return "trace_id IN (SELECT trace_id FROM affected)", {}
