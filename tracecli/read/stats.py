"""Per-group metrics of LLM and embedding calls (calls, errors, latency percentiles, tokens, cost,
cache hits and what they saved, retries, user feedback): what `stats` prints, what `check`
measures budgets against and what `diff` compares. One statement computes every group and the
total."""

from __future__ import annotations

from typing import Any

import duckdb

from tracecli.read.cost import (
    EVERY_TAG,
    GROUPS,
    RATES,
    RATES_JOIN,
    TABLE_COST,
    TAG_PAIR,
    TAGGED,
    Grouping,
    table_rates,
)
from tracecli.read.filters import Filters, span_where
from tracecli.read.listing import rows_of
from tracecli.sql.template import fill, merge

# Gateway response-cache statuses (Portkey's `cache_status`, LiteLLM's `cache_hit` as HIT/MISS).
HIT, SEMANTIC_HIT = "HIT", "SEMANTIC HIT"

# The metrics of a set of calls (rows of `calls` below, aliased s), shaped as the JSON rows are:
# nested fields are STRUCTs, which reach Python as dicts with their keys in order. Percentiles
# keep the microseconds durations are logged in, not the interpolation's float noise.
_METRICS = """count(*) AS calls,
  count(*) FILTER (WHERE s.status = 'error') AS errors,
  count(*) FILTER (WHERE s.status = 'error') / nullif(count(*), 0) AS error_rate,
  {'p50': round(quantile_cont(s.duration_ms, 0.5), 3), 'p90': round(quantile_cont(s.duration_ms, 0.9), 3),
   'p95': round(quantile_cont(s.duration_ms, 0.95), 3), 'p99': round(quantile_cont(s.duration_ms, 0.99), 3),
   'max': max(s.duration_ms)} AS latency_ms,
  sum(s.prompt_tokens) AS prompt_tokens,
  sum(s.completion_tokens) AS completion_tokens,
  sum(s.cached_tokens) AS cached_tokens,
  coalesce(fsum(s.cost_usd), 0) AS cost_usd,
  count(*) FILTER (WHERE s.cost_source = 'unpriced') AS unpriced_calls,
  {'hits': count(*) FILTER (WHERE s.cache_status = $hit),
   'semantic_hits': count(*) FILTER (WHERE s.cache_status = $semantic_hit),
   'hit_rate': count(*) FILTER (WHERE s.cache_status IN ($hit, $semantic_hit)) / nullif(count(*), 0),
   'saved_usd': CASE WHEN count(*) FILTER (WHERE s.cache_status IN ($hit, $semantic_hit)) = 0 THEN 0
                     ELSE fsum(s.table_cost) FILTER (WHERE s.cache_status IN ($hit, $semantic_hit)) END,
   'prompt_saved_usd': CASE WHEN coalesce(sum(s.cached_tokens), 0) = 0 THEN 0
                            ELSE fsum(s.cached_tokens * s.cache_discount) FILTER (WHERE s.cached_tokens > 0) END
  } AS cache,
  {'calls_retried': count(*) FILTER (WHERE s.retries > 0),
   'total': coalesce(sum(s.retries), 0)} AS retries"""

# A set of traces' user feedback (rows of fb): the weighted mean of every record's value, and
# how many records there are.
_SCORE = "fsum(fb.vw) / nullif(fsum(fb.w), 0) AS feedback_mean, sum(fb.n) AS feedback_count"

# calls: the filtered calls, each with its cost at the price table and what a cached prompt
# token saves at its rates (both NULL for a model the table does not know).
# grouped: the calls by group; a call with three tags is in three groups of `--by tag`.
# The total is over `calls`, so that it counts each call once whatever the grouping.
# Feedback is per trace: a group's is the weighted mean of every record on the traces it has
# calls of (weight 1 unless given), the same mean as a trace's feedback_score.
_STATS = """WITH calls AS (
  SELECT s.*, {{table_cost}} AS table_cost, r.r_in - r.r_cached AS cache_discount
  FROM spans s LEFT JOIN {{rates}} r ON {{join}}
  WHERE {{where}}
), grouped AS (
  SELECT {{group}} AS grp, s.* FROM {{source}} s
), fb AS (
  SELECT trace_id, fsum(value * weight) AS vw, fsum(weight) AS w, count(*) AS n FROM feedback GROUP BY trace_id
), metrics AS (
  SELECT false AS is_total, grp, {{metrics}} FROM grouped s GROUP BY grp
  UNION ALL
  SELECT true AS is_total, 'TOTAL' AS grp, {{metrics}} FROM calls s
), scores AS (
  SELECT false AS is_total, d.grp, {{score}}
  FROM (SELECT DISTINCT grp, trace_id FROM grouped) d JOIN fb USING (trace_id) GROUP BY d.grp
  UNION ALL
  SELECT true AS is_total, 'TOTAL' AS grp, {{score}}
  FROM (SELECT DISTINCT trace_id FROM calls) d JOIN fb USING (trace_id)
)
SELECT m.* EXCLUDE (is_total, grp), f.feedback_mean, coalesce(f.feedback_count, 0) AS feedback_count, m.grp AS "group", m.is_total
FROM metrics m LEFT JOIN scores f ON f.is_total = m.is_total AND f.grp = m.grp
ORDER BY m.is_total, m.cost_usd DESC, m.calls DESC, m.grp"""


def _grouped(grouping: Grouping) -> tuple[str, str, dict[str, Any]]:
    """The group expression, the relation it is computed over, and its parameters."""
    if grouping.by == "tag" and not grouping.tag_key:
        return TAG_PAIR, fill(EVERY_TAG, spans="calls"), {}
    if grouping.by == "tag":
        return TAGGED, "calls", {"group_tag_key": grouping.tag_key}
    return GROUPS[grouping.by], "calls", {}


def group_metrics(con: duckdb.DuckDBPyConnection, grouping: Grouping,
                  filters: Filters) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The metrics of the calls `filters` keep, per group (costliest first), and over them all.

    Each row is `{group, calls, errors, error_rate, latency_ms: {p50, p90, p95, p99, max},
    prompt_tokens, completion_tokens, cached_tokens, cost_usd, unpriced_calls, cache: {hits,
    semantic_hits, hit_rate, saved_usd, prompt_saved_usd}, retries: {calls_retried, total},
    feedback_mean, feedback_count}`; the total is the same with group "TOTAL", and has calls 0 when nothing
    matched. Percentiles interpolate linearly (quantile_cont), to the microsecond."""
    w = span_where(filters)
    w.add("tc_is_call(s.kind)")
    group, source, group_params = _grouped(grouping)
    sql = fill(_STATS, table_cost=TABLE_COST, rates=RATES, join=RATES_JOIN, s="s", where=w.sql(),
               group=group, source=source, metrics=_METRICS, score=_SCORE)
    params = merge(table_rates(con), w.params, group_params, {"hit": HIT, "semantic_hit": SEMANTIC_HIT})
    rows = [_ordered(r) for r in rows_of(con.execute(sql, params))]
    return rows[:-1], rows[-1]


def _ordered(row: dict[str, Any]) -> dict[str, Any]:
    """The group first, then the metrics as the query names them."""
    return {"group": row["group"], **{k: v for k, v in row.items() if k not in ("group", "is_total")}}
