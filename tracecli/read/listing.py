"""Traces and spans listed with filters, and one trace's id and spans looked up."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb

from tracecli.errors import ExitCode, NotFound, TraceCliError
from tracecli.read.filters import Filters, span_where, trace_where
from tracecli.sql.template import fill, merge

TRACE_FIELDS = ("trace_id", "start_time", "duration_ms", "spans", "llm_calls", "tool_calls",
                "models", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
                "unpriced_calls", "errors", "status", "tags")


# User feedback per trace: the weighted mean of its values, and how many there were.
FEEDBACK_FIELDS = "fb.score AS feedback_score, coalesce(fb.n, 0) AS feedback_count"
FEEDBACK_JOIN = """LEFT JOIN (SELECT trace_id, fsum(value * weight) / nullif(fsum(weight), 0) AS score,
                                    count(*) AS n FROM feedback GROUP BY trace_id) fb
                   ON fb.trace_id = t.trace_id"""


_TRACES = """SELECT {{columns}}, {{feedback_fields}} FROM trace_summary t {{feedback_join}}
WHERE {{where}} ORDER BY t.start_time DESC NULLS LAST, t.trace_id{{limit}}"""
_COUNT_TRACES = "SELECT count(*) FROM trace_summary t WHERE {{where}}"


def _limit(n: int) -> tuple[str, dict[str, Any]]:
    """A LIMIT clause and its parameter; none for 0, which means all."""
    return (" LIMIT $limit", {"limit": n}) if n else ("", {})


def list_traces(con: duckdb.DuckDBPyConnection, f: Filters, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Newest first, at most `limit` (0 = all). Returns the rows and how many matched in all."""
    w = trace_where(f)
    # one row more than asked says whether there are more, without counting them all
    cut, cut_params = _limit(limit + 1 if limit else 0)
    sql = fill(_TRACES, columns=", ".join(f"t.{c}" for c in TRACE_FIELDS),
               feedback_fields=FEEDBACK_FIELDS, feedback_join=FEEDBACK_JOIN, where=w.sql(), limit=cut)
    rows = rows_of(con.execute(sql, merge(w.params, cut_params)))
    total = len(rows)
    if limit and total > limit:
        count = con.execute(fill(_COUNT_TRACES, where=w.sql()), w.params).fetchone()
        total = int(count[0]) if count else total
        rows = rows[:limit]
    return rows, total


def rows_of(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every row of an executed query as a dict."""
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def resolve_trace_id(con: duckdb.DuckDBPyConnection, prefix: str) -> str:
    """A full trace id from a unique prefix."""
    rows = con.execute(
        "SELECT trace_id FROM trace_summary WHERE starts_with(trace_id, $prefix) ORDER BY trace_id LIMIT 6",
        {"prefix": prefix},
    ).fetchall()
    if not rows:
        raise NotFound(f"no trace matches {prefix!r}")
    ids: list[str] = [r[0] for r in rows]
    if prefix in ids:
        return prefix
    if len(ids) > 1:
        shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
        raise TraceCliError(f"trace id prefix {prefix!r} is ambiguous: {shown}", ExitCode.USAGE)
    return ids[0]


JSON_SPAN_COLUMNS = ("request", "response", "tool_arguments")


def decode_json(rows: list[dict[str, Any]], columns: tuple[str, ...] = JSON_SPAN_COLUMNS) -> list[dict[str, Any]]:
    """DuckDB hands JSON columns back as text; callers want the values."""
    for row in rows:
        for col in columns:
            if isinstance(row.get(col), str):
                row[col] = json.loads(row[col])
    return rows


def trace_scope(trace_id: str, within: tuple[datetime, datetime] | None) -> tuple[str, dict[str, Any]]:
    """The spans of one trace, as a condition and its parameters. `within` (the trace's first
    start and last end) lets DuckDB skip every row group outside that time range, which is what
    keeps `show` instant on a big store."""
    if within is None:
        return "trace_id = $trace_id", {"trace_id": trace_id}
    return ("trace_id = $trace_id AND start_time BETWEEN $t0 AND $t1",
            {"trace_id": trace_id, "t0": within[0], "t1": within[1]})


_TRACE_SPANS = """SELECT * EXCLUDE (ingest_id) FROM spans WHERE {{scope}}
ORDER BY start_time NULLS LAST, source_file, source_row, span_id"""


def spans_of_trace(con: duckdb.DuckDBPyConnection, trace_id: str,
                   within: tuple[datetime, datetime] | None = None) -> list[dict[str, Any]]:
    """A trace's spans in order, looked up `within` its time range when given."""
    scope, params = trace_scope(trace_id, within)
    return decode_json(rows_of(con.execute(fill(_TRACE_SPANS, scope=scope), params)))


_SPANS = """SELECT s.* EXCLUDE (ingest_id) FROM spans s WHERE {{where}}
ORDER BY s.start_time NULLS LAST, s.trace_id, s.source_file, s.source_row, s.span_id{{limit}}"""


def list_spans(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None,
               limit: int) -> list[dict[str, Any]]:
    """Canonical span rows, the shape `tracecli ingest` reads back losslessly."""
    w = span_where(f)
    if trace_id:
        w.add("s.trace_id = $trace_id", trace_id=trace_id)
    cut, cut_params = _limit(limit)
    return decode_json(rows_of(con.execute(fill(_SPANS, where=w.sql(), limit=cut),
                                           merge(w.params, cut_params))))
