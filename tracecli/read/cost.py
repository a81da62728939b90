"""Cost totals grouped by model, provider, trace, day or tag, with where each cost came from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.read.filters import Filters, span_where
from tracecli.read.listing import rows_of
from tracecli.sql.template import fill, merge
from tracecli.store.rollup import SUMS

# group name -> SQL expression over spans; the tag key is always a parameter
GROUPS = {
    "model": "coalesce(model, '(unknown)')",
    "provider": "coalesce(provider, '(unknown)')",
    "trace": "trace_id",
    "day": "coalesce(strftime(start_time, '%Y-%m-%d'), '(unknown)')",
    "kind": "coalesce(kind, '(unknown)')",
}
GROUP_CHOICES = (*GROUPS, "tag", "tag:KEY")


@dataclass(frozen=True)
class Grouping:
    by: str
    tag_key: str | None = None

    @property
    def label(self) -> str:
        return f"tag:{self.tag_key}" if self.tag_key else self.by


def parse_group(text: str) -> Grouping:
    by, sep, key = text.partition(":")
    if by == "tag":
        if sep and not key:
            raise TraceCliError("--by tag:KEY needs a key, e.g. --by tag:env", ExitCode.USAGE)
        return Grouping("tag", key or None)
    if by in GROUPS and not sep:
        return Grouping(by)
    raise TraceCliError(f"--by {text!r}: choose one of {', '.join(GROUP_CHOICES)}", ExitCode.USAGE)


PRICE_SOURCES = ("logged", "table")


# The price table's rates of the (provider, model) pairs the store's calls name, as rows of r;
# they travel as parameter lists (`table_rates`), so this works on a read-only store.
RATES = """(SELECT unnest($price_providers::VARCHAR[]) AS provider, unnest($price_models::VARCHAR[]) AS model,
           unnest($price_in::DOUBLE[]) AS r_in, unnest($price_cached::DOUBLE[]) AS r_cached,
           unnest($price_out::DOUBLE[]) AS r_out)"""
RATES_JOIN = "r.model = {{s}}.model AND r.provider IS NOT DISTINCT FROM {{s}}.provider"
# A call's cost at those rates (a span aliased {{s}} joined to r): unpriced (NULL) for a model
# the table lacks, or without tokens to price.
TABLE_COST = """CASE WHEN r.model IS NULL OR ({{s}}.prompt_tokens IS NULL AND {{s}}.completion_tokens IS NULL) THEN NULL
     ELSE tc_priced({{s}}.prompt_tokens, {{s}}.cached_tokens, {{s}}.completion_tokens, r.r_in, r.r_cached, r.r_out)
     END"""

# Spans with every call re-priced from the table.
_TABLE_PRICED = fill("""(SELECT s0.* REPLACE (
    {{cost}} AS cost_usd,
    CASE WHEN {{cost}} IS NULL THEN 'unpriced' ELSE 'computed' END AS cost_source)
  FROM spans s0 LEFT JOIN {{rates}} r ON {{join}})""",
    cost=TABLE_COST, rates=RATES, join=RATES_JOIN, s="s0")


def table_rates(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The parameters of RATES: genai-prices' rates for every model the store's calls name."""
    from tracecli.ingest.pricing import lookup

    models = con.execute(
        "SELECT DISTINCT provider, model FROM spans WHERE tc_is_call(kind) AND model IS NOT NULL"
    ).fetchall()
    found = [(p, m, r) for p, m in models if (r := lookup(p, m)) is not None]
    return {
        "price_providers": [p for p, _, _ in found], "price_models": [m for _, m, _ in found],
        "price_in": [r.input for *_, r in found], "price_cached": [r.cached_input for *_, r in found],
        "price_out": [r.output for *_, r in found],
    }


def _table_priced(con: duckdb.DuckDBPyConnection) -> tuple[str, dict[str, Any]]:
    """Spans with every call re-priced from genai-prices' table, ignoring logged costs."""
    return _TABLE_PRICED, table_rates(con)


# Groups and the total row (the empty grouping set) in one scan.
_GROUPED = """SELECT {{group}} AS grp, grouping(grp) AS is_total, {{sums}}
FROM {{source}} s WHERE {{where}} GROUP BY GROUPING SETS ((grp), ())
ORDER BY is_total, cost_usd DESC, grp"""
# Groups alone, for groups that overlap (a call with three tags counts in three) or leave calls
# out: their total is a scan of its own.
_GROUPS_ONLY = """SELECT {{group}} AS grp, {{sums}} FROM {{source}} s WHERE {{where}}
GROUP BY grp ORDER BY cost_usd DESC, grp"""
_TOTAL = "SELECT 'TOTAL' AS grp, {{sums}} FROM {{source}} s WHERE {{where}}"
# Every key=value tag a user set on a span as its own row (e), a span without any as one row with none.
EVERY_TAG = """(SELECT *, unnest(CASE WHEN cardinality(tags) > 0 THEN map_entries(tags) ELSE [NULL] END) AS e
  FROM (SELECT *, tc_user_tags(metadata) AS tags FROM {{spans}}))"""
TAGGED = "coalesce(map_extract_value(s.metadata, $group_tag_key), '(none)')"
TAG_PAIR = "coalesce(e.key || '=' || e.value, '(none)')"


def top(rows: list[dict[str, Any]], n: int) -> tuple[list[dict[str, Any]], int]:
    """The first `n` groups of rows ordered by cost (all for 0), and how many were left out.
    The total row is never cut: it counts the groups left out too."""
    kept = rows[:n] if n else rows
    return kept, len(rows) - len(kept)


def totals(con: duckdb.DuckDBPyConnection, grouping: Grouping, filters: Filters,
           prices: str = "logged") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows ordered by cost (highest first), and the grand total over the same calls.

    prices="logged" uses each call's stored cost (logged, else computed at ingest);
    prices="table" re-prices every call from the current price table."""
    if prices not in PRICE_SOURCES:
        raise TraceCliError(f"--prices must be one of {', '.join(PRICE_SOURCES)}", ExitCode.USAGE)
    if prices == "logged" and filters == Filters():
        answered = _from_rollup(con, grouping)
        if answered:
            return answered
    spans, spans_params = _table_priced(con) if prices == "table" else ("spans", {})
    w = span_where(filters)
    w.add("tc_is_call(s.kind)")
    params = merge(spans_params, w.params)
    if grouping.by == "tag" and not grouping.tag_key:
        rows = rows_of(con.execute(fill(_GROUPS_ONLY, group=TAG_PAIR, sums=SUMS, source=EVERY_TAG,
                                        spans=spans, where=w.sql()), params))
        total = rows_of(con.execute(fill(_TOTAL, sums=SUMS, source=spans, where=w.sql()), params))
        return [_named(r) for r in rows], _named(total[0])
    if grouping.by == "tag":
        group, params = TAGGED, merge(params, {"group_tag_key": grouping.tag_key})
    else:
        group = GROUPS[grouping.by]
    found = rows_of(con.execute(fill(_GROUPED, group=group, sums=SUMS, source=spans,
                                     where=w.sql()), params))
    return _split_total(found)


# Groupings the ingest-time roll-up (tracecli.store.rollup) answers, over its columns (which are
# the spans' own, but for the day).
_ROLLUP_GROUPS = {**{by: GROUPS[by] for by in ("model", "provider", "kind")},
                  "day": "coalesce(strftime(day, '%Y-%m-%d'), '(unknown)')"}
_RESUM = """CAST(coalesce(sum(calls), 0) AS BIGINT) AS calls,
  CAST(sum(prompt_tokens) AS BIGINT) AS prompt_tokens,
  CAST(sum(completion_tokens) AS BIGINT) AS completion_tokens,
  CAST(sum(total_tokens) AS BIGINT) AS total_tokens,
  coalesce(fsum(cost_usd), 0) AS cost_usd,
  CAST(coalesce(sum(logged), 0) AS BIGINT) AS logged,
  CAST(coalesce(sum(computed), 0) AS BIGINT) AS computed,
  CAST(coalesce(sum(unpriced), 0) AS BIGINT) AS unpriced"""
_SUMMED = ("calls", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "logged",
           "computed", "unpriced")


def _from_rollup(con: duckdb.DuckDBPyConnection,
                 grouping: Grouping) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """Unfiltered totals from the roll-up; None for groupings it does not keep."""
    untagged = "tag_key IS NULL"  # the roll-up's rows of calls, not of tags
    if grouping.by in _ROLLUP_GROUPS:
        return _split_total(rows_of(con.execute(fill(
            _GROUPED, group=_ROLLUP_GROUPS[grouping.by], sums=_RESUM, source="cost_rollup",
            where=untagged))))
    if grouping.by != "tag" or not grouping.tag_key:
        return None
    keyed = rows_of(con.execute(
        fill(_GROUPS_ONLY, group="tag_value", sums=_RESUM, source="cost_rollup",
             where="tag_key = $tag_key AND tag_value IS NOT NULL"),
        {"tag_key": grouping.tag_key}))
    total = rows_of(con.execute(fill(_TOTAL, sums=_RESUM, source="cost_rollup", where=untagged)))[0]
    rest = _remainder(total, keyed)
    rows = sorted(keyed + ([rest] if rest["calls"] else []), key=lambda r: (-r["cost_usd"], r["grp"]))
    return [_named(r) for r in rows], _named(total)


def _remainder(total: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The calls without the tag: all calls less those with it."""
    rest: dict[str, Any] = {"grp": "(none)"}
    for col in _SUMMED:
        values = [p[col] for p in parts if p[col] is not None]
        if total[col] is None:
            rest[col] = None
        elif col == "cost_usd":
            rest[col] = math.fsum([total[col], *(-v for v in values)])
        else:
            rest[col] = total[col] - sum(values)
    return rest


def _split_total(found: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The groups, and the total row that GROUPING SETS puts last."""
    total = {**found.pop(), "grp": "TOTAL"}
    return [_named(r) for r in found], _named(total)


def _named(row: dict[str, Any]) -> dict[str, Any]:
    return {"group": row["grp"], **{k: v for k, v in row.items() if k not in ("grp", "is_total")}}
