"""Cost totals grouped by model, provider, trace, day or tag, with where each cost came from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.read.filters import Filters, span_where
from tracecli.read.listing import rows_of
from tracecli.store.rollup import SUMS

# group name -> SQL expression over spans; the tag key is always a parameter
_GROUPS = {
    "model": "coalesce(model, '(unknown)')",
    "provider": "coalesce(provider, '(unknown)')",
    "trace": "trace_id",
    "day": "coalesce(strftime(start_time, '%Y-%m-%d'), '(unknown)')",
    "kind": "coalesce(kind, '(unknown)')",
}
GROUP_CHOICES = (*_GROUPS, "tag", "tag:KEY")


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
    if by in _GROUPS and not sep:
        return Grouping(by)
    raise TraceCliError(f"--by {text!r}: choose one of {', '.join(GROUP_CHOICES)}", ExitCode.USAGE)


PRICE_SOURCES = ("logged", "table")


def _table_priced(con: duckdb.DuckDBPyConnection) -> tuple[str, list[Any]]:
    """Spans with every call re-priced from genai-prices' table, ignoring logged costs.
    The rates travel as parameter lists, so this works on a read-only store."""
    from tracecli.ingest.pricing import lookup

    models = con.execute(
        "SELECT DISTINCT provider, model FROM spans WHERE kind IN ('llm', 'embedding') AND model IS NOT NULL"
    ).fetchall()
    found = [(p, m, r) for p, m in models if (r := lookup(p, m)) is not None]
    sql = """(SELECT s0.* REPLACE (
                CASE WHEN r.model IS NULL OR (s0.prompt_tokens IS NULL AND s0.completion_tokens IS NULL)
                     THEN NULL
                     ELSE (coalesce(s0.prompt_tokens, 0) - coalesce(s0.cached_tokens, 0)) * r.r_in
                          + coalesce(s0.cached_tokens, 0) * r.r_cached
                          + coalesce(s0.completion_tokens, 0) * r.r_out END AS cost_usd,
                CASE WHEN r.model IS NULL OR (s0.prompt_tokens IS NULL AND s0.completion_tokens IS NULL)
                     THEN 'unpriced' ELSE 'computed' END AS cost_source)
              FROM spans s0 LEFT JOIN (
                SELECT unnest(?::VARCHAR[]) AS provider, unnest(?::VARCHAR[]) AS model,
                       unnest(?::DOUBLE[]) AS r_in, unnest(?::DOUBLE[]) AS r_cached,
                       unnest(?::DOUBLE[]) AS r_out) r
              ON r.model = s0.model AND r.provider IS NOT DISTINCT FROM s0.provider)"""
    params = [[p for p, _, _ in found], [m for _, m, _ in found], [r.input for *_, r in found],
              [r.cached_input for *_, r in found], [r.output for *_, r in found]]
    return sql, params


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
    spans, spans_params = _table_priced(con) if prices == "table" else ("spans", [])
    w = span_where(filters)
    w.add("s.kind IN ('llm', 'embedding')")
    group_params: list[Any] = []
    source = f"{spans} s"
    if grouping.by == "tag" and grouping.tag_key:
        group_sql = "coalesce(map_extract_value(s.metadata, ?), '(none)')"
        group_params.append(grouping.tag_key)
    elif grouping.by == "tag":
        # every key=value tag is its own group; a call with three tags counts in three groups
        group_sql = "coalesce(e.key || '=' || e.value, '(none)')"
        entries = "unnest(CASE WHEN cardinality(metadata) > 0 THEN map_entries(metadata) ELSE [NULL] END)"
        source = f"(SELECT *, {entries} AS e FROM {spans}) s"  # noqa: S608 - internal SQL only
    else:
        group_sql = _GROUPS[grouping.by]
    if grouping.by == "tag" and not grouping.tag_key:
        sql = (f"SELECT {group_sql} AS grp, {SUMS} FROM {source} WHERE {w.sql()} "  # noqa: S608
               "GROUP BY grp ORDER BY cost_usd DESC, grp")
        rows = rows_of(con.execute(sql, [*spans_params, *w.params]))
        total_sql = f"SELECT 'TOTAL' AS grp, {SUMS} FROM {spans} s WHERE {w.sql()}"  # noqa: S608
        total = rows_of(con.execute(total_sql, [*spans_params, *w.params]))[0]
        return [_named(r) for r in rows], _named(total)
    # one scan for the groups and the total row (the empty grouping set)
    sql = (f"SELECT {group_sql} AS grp, grouping(grp) AS is_total, {SUMS} "  # noqa: S608
           f"FROM {source} WHERE {w.sql()} GROUP BY GROUPING SETS ((grp), ()) "
           "ORDER BY is_total, cost_usd DESC, grp")
    found = rows_of(con.execute(sql, [*group_params, *spans_params, *w.params]))
    total = {**found.pop(), "grp": "TOTAL"}
    return [_named(r) for r in found], _named(total)


# Groupings the ingest-time roll-up (tracecli.store.rollup) answers, over its columns (which are
# the spans' own, but for the day).
_ROLLUP_GROUPS = {**{by: _GROUPS[by] for by in ("model", "provider", "kind")},
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
    if grouping.by in _ROLLUP_GROUPS:
        found = rows_of(con.execute(
            f"SELECT {_ROLLUP_GROUPS[grouping.by]} AS grp, grouping(grp) AS is_total, {_RESUM} "  # noqa: S608
            "FROM cost_rollup WHERE tag_key IS NULL GROUP BY GROUPING SETS ((grp), ()) "
            "ORDER BY is_total, cost_usd DESC, grp"))
        total = {**found.pop(), "grp": "TOTAL"}
        return [_named(r) for r in found], _named(total)
    if grouping.by != "tag" or not grouping.tag_key:
        return None
    keyed = rows_of(con.execute(
        f"SELECT tag_value AS grp, {_RESUM} FROM cost_rollup "  # noqa: S608
        "WHERE tag_key = ? AND tag_value IS NOT NULL GROUP BY grp", [grouping.tag_key]))
    total = rows_of(con.execute(f"SELECT 'TOTAL' AS grp, {_RESUM} FROM cost_rollup WHERE tag_key IS NULL"))[0]  # noqa: S608
    untagged = _remainder(total, keyed)
    rows = sorted(keyed + ([untagged] if untagged["calls"] else []), key=lambda r: (-r["cost_usd"], r["grp"]))
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


def _named(row: dict[str, Any]) -> dict[str, Any]:
    return {"group": row["grp"], **{k: v for k, v in row.items() if k not in ("grp", "is_total")}}
