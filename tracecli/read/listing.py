"""Traces and spans listed with filters, and one trace's id and spans looked up."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb

from tracecli.errors import ExitCode, NotFound, TraceCliError
from tracecli.read.filters import Filters, span_where, trace_where

TRACE_FIELDS = ("trace_id", "start_time", "duration_ms", "spans", "llm_calls", "tool_calls",
                "models", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
                "unpriced_calls", "errors", "status", "tags")


# User feedback per trace: the weighted mean of its values, and how many there were.
FEEDBACK_FIELDS = "fb.score AS feedback_score, coalesce(fb.n, 0) AS feedback_count"
FEEDBACK_JOIN = """LEFT JOIN (SELECT trace_id, fsum(value * weight) / nullif(fsum(weight), 0) AS score,
                                    count(*) AS n FROM feedback GROUP BY trace_id) fb
                   ON fb.trace_id = t.trace_id"""


def list_traces(con: duckdb.DuckDBPyConnection, f: Filters, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Newest first, at most `limit` (0 = all). Returns the rows and how many matched in all."""
    w = trace_where(f)
    cols = ", ".join(f"t.{c}" for c in TRACE_FIELDS)
    sql = (f"SELECT {cols}, {FEEDBACK_FIELDS} FROM trace_summary t {FEEDBACK_JOIN} "  # noqa: S608
           f"WHERE {w.sql()} ORDER BY t.start_time DESC NULLS LAST, t.trace_id")
    params = list(w.params)
    if limit:
        sql += " LIMIT ?"
        params.append(limit + 1)
    rows = rows_of(con.execute(sql, params))
    total = len(rows)
    if limit and total > limit:
        count = con.execute(f"SELECT count(*) FROM trace_summary t WHERE {w.sql()}", w.params).fetchone()  # noqa: S608
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
        "SELECT trace_id FROM trace_summary WHERE starts_with(trace_id, ?) ORDER BY trace_id LIMIT 6",
        [prefix],
    ).fetchall()
    if not rows:
        raise NotFound(f"no trace matches {prefix!r}")
    ids = [r[0] for r in rows]
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


def spans_of_trace(con: duckdb.DuckDBPyConnection, trace_id: str,
                   within: tuple[datetime, datetime] | None = None) -> list[dict[str, Any]]:
    """A trace's spans in order. `within` (the trace's first start and last end) lets DuckDB skip
    every row group outside that time range, which is what keeps `show` instant on a big store."""
    bounds = " AND start_time BETWEEN ? AND ?" if within else ""
    return decode_json(rows_of(con.execute(
        f"SELECT * EXCLUDE (ingest_id) FROM spans WHERE trace_id = ?{bounds} "  # noqa: S608
        "ORDER BY start_time NULLS LAST, source_file, source_row, span_id",
        [trace_id, *(within or ())],
    )))


def list_spans(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None,
               limit: int) -> list[dict[str, Any]]:
    """Canonical span rows, the shape `tracecli ingest` reads back losslessly."""
    w = span_where(f)
    if trace_id:
        w.add("s.trace_id = ?", trace_id)
    sql = (f"SELECT s.* EXCLUDE (ingest_id) FROM spans s WHERE {w.sql()} "  # noqa: S608
           "ORDER BY s.start_time NULLS LAST, s.trace_id, s.source_file, s.source_row, s.span_id")
    params = list(w.params)
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return decode_json(rows_of(con.execute(sql, params)))
