"""Cost totals kept at ingest, so that `cost` answers from a few thousand rows, not every span.

Each ingest appends its calls' sums twice over: per (day, provider, model, kind), and per tag
(key, value). Sums of sums are the sums, so `cost --by model|provider|kind|day|tag:KEY` without
filters reads only this table (tracecli.read.cost). Filtered questions still scan the spans."""

from __future__ import annotations

import duckdb

from tracecli.sql import macros
from tracecli.sql.template import fill

# The sums `cost` reports, over spans aliased s (the same columns, summed again, when read back).
SUMS = """count(*) AS calls,
  sum(s.prompt_tokens) AS prompt_tokens,
  sum(s.completion_tokens) AS completion_tokens,
  sum(coalesce(tc_total_tokens(s.total_tokens, s.prompt_tokens, s.completion_tokens), 0)) AS total_tokens,
  coalesce(fsum(s.cost_usd), 0) AS cost_usd,
  count(*) FILTER (WHERE s.cost_source = 'logged') AS logged,
  count(*) FILTER (WHERE s.cost_source = 'computed') AS computed,
  count(*) FILTER (WHERE s.cost_source = 'unpriced') AS unpriced"""

_ADD = """
INSERT INTO cost_rollup BY NAME
WITH s AS NOT MATERIALIZED (  -- two cheap scans beat one materialization
  SELECT start_time, provider, model, kind, prompt_tokens, completion_tokens, total_tokens,
         cost_usd, cost_source, metadata
  FROM spans WHERE tc_is_call(kind) AND {{scope}})
SELECT CAST(s.start_time AS DATE) AS day, s.provider, s.model, s.kind,
       NULL AS tag_key, NULL AS tag_value, {{sums}}
FROM s GROUP BY ALL
UNION ALL BY NAME
SELECT e.key AS tag_key, e.value AS tag_value, {{sums}}
FROM (SELECT *, unnest(map_entries(tags)) AS e FROM (SELECT *, tc_user_tags(metadata) AS tags FROM s)
      WHERE cardinality(tags) > 0) s
GROUP BY ALL
"""


def create(con: duckdb.DuckDBPyConnection) -> None:
    """The table, filled from every stored span (a store migrating to it)."""
    macros.install(con)  # the sums speak the vocabulary; a migration may run on a bare connection
    con.execute(
        """CREATE TABLE cost_rollup (
             day DATE, provider VARCHAR, model VARCHAR, kind VARCHAR,  -- rows with tag_key NULL
             tag_key VARCHAR, tag_value VARCHAR,                       -- rows of one tag
             calls BIGINT, prompt_tokens HUGEINT, completion_tokens HUGEINT,
             total_tokens HUGEINT, cost_usd DOUBLE, logged BIGINT, computed BIGINT, unpriced BIGINT)"""
    )
    add(con)


def add(con: duckdb.DuckDBPyConnection, ingest_id: int | None = None) -> None:
    """Sums of the calls ingest `ingest_id` added, or of every stored call. An ingest runs this
    once its calls are priced, before anything else marks older spans with its id."""
    if ingest_id is None:
        con.execute(fill(_ADD, sums=SUMS, scope="true"))
    else:
        con.execute(fill(_ADD, sums=SUMS, scope="ingest_id = $ingest_id"), {"ingest_id": ingest_id})
