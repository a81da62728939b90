"""Traces and spans listed with filters, and one trace's id and spans looked up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from tracecli.errors import ExitCode, NotFound, TraceCliError
from tracecli.read.export import SPAN_FIELDS, Chunk
from tracecli.read.filters import FEEDBACK_SCORES, Filters, Where, span_where, trace_where
from tracecli.sql.template import fill, ident, literal, merge
from tracecli.store.connection import store_path
from tracecli.store.schema import MONEY_COLUMNS, SPAN_COLUMNS

# More rows than any store holds (a limit of 0 means all).
MAX_ROWS = 2**62

TRACE_FIELDS = ("trace_id", "start_time", "duration_ms", "spans", "llm_calls", "tool_calls",
                "models", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
                "unpriced_calls", "errors", "status", "tags")


# User feedback per trace (filters.FEEDBACK_SCORES): its score and how many records it has.
FEEDBACK_FIELDS = "fb.score AS feedback_score, coalesce(fb.n, 0) AS feedback_count"
FEEDBACK_JOIN = fill("LEFT JOIN ({{scores}}) fb ON fb.trace_id = t.trace_id", scores=FEEDBACK_SCORES)


_TRACES = """SELECT {{columns}}, {{feedback_fields}} FROM trace_summary t {{feedback_join}}
WHERE {{where}} ORDER BY t.start_time DESC NULLS LAST, t.trace_id{{limit}}"""
_COUNT_TRACES = "SELECT count(*) FROM trace_summary t WHERE {{where}}"


def _limit(n: int) -> tuple[str, dict[str, Any]]:
    """A LIMIT clause and its parameter; none for 0, which means all."""
    return (" LIMIT $limit", {"limit": n}) if n else ("", {})


# Tags leave DuckDB as JSON text: a dict from each MAP costs 20 µs a trace, json.loads 2 µs.
_TRACE_COLUMNS = ", ".join("to_json(t.tags) AS tags" if c == "tags" else f"t.{c}" for c in TRACE_FIELDS)


def list_traces(con: duckdb.DuckDBPyConnection, f: Filters, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Newest first, at most `limit` (0 = all). Returns the rows and how many matched in all."""
    w = trace_where(f)
    # one row more than asked says whether there are more, without counting them all
    cut, cut_params = _limit(limit + 1 if limit else 0)
    sql = fill(_TRACES, columns=_TRACE_COLUMNS, feedback_fields=FEEDBACK_FIELDS,
               feedback_join=FEEDBACK_JOIN, where=w.sql(), limit=cut)
    rows = decode_json(rows_of(con.execute(sql, merge(w.params, cut_params))), ("tags",))
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


# The listing order of spans: by time (spans without one last), then trace, source and span. The
# row id makes the order total, so that a window of it begins exactly where the last one ended
# and a listing cut at N rows is the first N rows of the whole listing. A row comparison puts
# NULL last, as NULLS LAST does.
_SPAN_KEY = ("s.start_time", "s.trace_id", "s.source_file", "s.source_row", "s.span_id", "s.rowid")
_KEY_TYPES = ("TIMESTAMP", "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "BIGINT")
_SPAN_ORDER = ", ".join(f"{k} NULLS LAST" for k in _SPAN_KEY)
_KEY_ROW = "row(" + ", ".join(_SPAN_KEY) + ")"

Key = tuple[Any, ...]

_SPANS = """SELECT {{fields}} FROM spans s WHERE {{where}} ORDER BY {{order}}{{limit}}"""
_COUNT_SPANS = "SELECT count(*) FROM spans s WHERE {{where}}"


def span_filter(f: Filters, trace_id: str | None) -> Where:
    """The spans a listing picks: the filters, and one trace when given."""
    w = span_where(f)
    if trace_id:
        w.add("s.trace_id = $trace_id", trace_id=trace_id)
    return w


def list_spans(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None, limit: int,
               columns: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], int]:
    """Canonical span rows in listing order, at most `limit` (0 = all): every column, or only
    `columns` (what a table shows). Returns the rows and how many matched in all."""
    w = span_filter(f, trace_id)
    fields = ", ".join(f"s.{ident(c)}" for c in columns) if columns else "s.* EXCLUDE (ingest_id)"
    cut, cut_params = _limit(limit + 1 if limit else 0)
    rows = rows_of(con.execute(fill(_SPANS, fields=fields, where=w.sql(), order=_SPAN_ORDER,
                                    limit=cut), merge(w.params, cut_params)))
    total = len(rows)
    if limit and total > limit:
        total, rows = count_spans(con, f, trace_id), rows[:limit]
    return decode_json(rows), total


def count_spans(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None) -> int:
    w = span_filter(f, trace_id)
    found = con.execute(fill(_COUNT_SPANS, where=w.sql()), w.params).fetchone()
    return int(found[0]) if found else 0


# Streamed listings go a window of spans at a time. The keys of the next WINDOW spans come from
# a top-N over the narrow key columns (DuckDB plans LIMIT under 5,000 rows as a top-N, whose
# bound skips the row groups past it); then DuckDB makes and sorts the lines of STEP spans at a
# time, between two of those keys. Memory stays that of one step (turning a span into JSON
# takes some 30 KB while it lasts) at any store size; the first lines come after one step.
WINDOW = 4096
STEP = 1024
_KEYS = """SELECT {{key}} FROM spans s WHERE {{where}} ORDER BY {{order}} LIMIT $n"""
_LINES = """SELECT {{line}} FROM (SELECT {{fields}} FROM spans s WHERE {{where}} ORDER BY {{order}}) e"""
_BATCH = 2048  # lines fetched at a time


def _key_params(prefix: str, key: Key) -> tuple[str, dict[str, Any]]:
    """A key as a row of typed parameters ($prefix_0 is its time)."""
    names = [f"{prefix}_{i}" for i in range(len(key))]
    row = ", ".join(fill("${{name}}::{{type}}", name=n, type=t) for n, t in zip(names, _KEY_TYPES, strict=True))
    return f"row({row})", dict(zip(names, key, strict=True))


def _from_key(w: Where, lo: Key, timed: bool) -> None:
    """Spans at or after `lo` in listing order. Among spans with a time, the bound on the time
    alone is what lets DuckDB skip row groups; the row comparison decides between spans of the
    same time."""
    row, params = _key_params("lo", lo)
    template = ("s.start_time >= $lo_0 AND (s.start_time > $lo_0 OR {{key}} >= {{lo}})" if timed
                else "{{key}} >= {{lo}}")
    w.add(fill(template, key=_KEY_ROW, lo=row), **params)


def _before_key(w: Where, hi: Key, timed: bool) -> None:
    """Spans before `hi` in listing order."""
    row, params = _key_params("hi", hi)
    template = ("s.start_time <= $hi_0 AND (s.start_time < $hi_0 OR {{key}} < {{hi}})" if timed
                else "{{key}} < {{hi}}")
    w.add(fill(template, key=_KEY_ROW, hi=row), **params)


def _window(f: Filters, trace_id: str | None, timed: bool, lo: Key | None,
            hi: Key | None) -> Where:
    """The spans from `lo` to before `hi` among those with a time (`timed`) or those without,
    which come after them all."""
    w = span_filter(f, trace_id)
    w.add("s.start_time IS NOT NULL" if timed else "s.start_time IS NULL")
    if lo is not None:
        _from_key(w, lo, timed)
    if hi is not None:
        _before_key(w, hi, timed)
    return w


def _keys(con: duckdb.DuckDBPyConnection, w: Where, n: int) -> list[Key]:
    """The keys of the first `n` spans of `w`."""
    sql = fill(_KEYS, key=", ".join(_SPAN_KEY), where=w.sql(), order=_SPAN_ORDER)
    return [tuple(row) for row in con.execute(sql, merge(w.params, {"n": n})).fetchall()]


@dataclass(frozen=True)
class _Run:
    """At most a step of spans: those with a time or those without, from `lo` to before `hi`
    (to the end of their kind when None)."""

    timed: bool
    lo: Key
    hi: Key | None


def _runs(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None, limit: int,
          window: int, step: int) -> Iterator[_Run]:
    """The runs of the listing in order, up to `limit` spans (0 = all): the spans with a time,
    then those without."""
    left = limit or MAX_ROWS
    for timed in (True, False):
        lo: Key | None = None
        while left > 0:
            size = min(window, left)
            keys = _keys(con, _window(f, trace_id, timed, lo, None), size + 1)  # +1: the next lo
            for i in range(0, min(size, len(keys)), step):
                end = min(i + step, size)
                yield _Run(timed, keys[i], keys[end] if end < len(keys) else None)
            left -= min(size, len(keys))
            if len(keys) <= size:
                break
            lo = keys[size]


@dataclass(frozen=True)
class LineFormat:
    """How DuckDB writes one span as a line of text: the fields it selects and the line it makes
    of them (row `e`), a header line first for CSV."""

    fields: str
    line: str
    header: str = ""


# A span as `tracecli export` writes it, one JSON object a line.
JSONL = LineFormat(SPAN_FIELDS, "to_json(e) || chr(10)")

# CSV cells as Python's csv module writes tracecli's values (render.output): ISO times in
# milliseconds with a Z, numbers as Python prints them (DuckDB's shortest round trip is the
# same text), money as a plain decimal at 10 significant digits (render.output.money_text),
# NaN and infinity empty; a cell holding a comma, a quote or a line break (CR too, which
# Python 3.11 leaves bare) is quoted, its quotes doubled.
_CSV_MONEY = "CASE WHEN isfinite({{v}}) THEN tc_money_text({{v}}) END"
_CSV_TEXT = {
    "TIMESTAMP": "strftime({{v}}, '%Y-%m-%dT%H:%M:%S.%gZ')",
    "DOUBLE": "CASE WHEN isfinite({{v}}) THEN CAST({{v}} AS VARCHAR) END",
    "BIGINT": "CAST({{v}} AS VARCHAR)", "INTEGER": "CAST({{v}} AS VARCHAR)", "VARCHAR": "{{v}}",
}
_CSV_CELL = r"""CASE WHEN regexp_matches({{v}}, '[,"\n\r]') THEN '"' || replace({{v}}, '"', '""') || '"'
     ELSE coalesce({{v}}, '') END"""


def csv_format(columns: tuple[str, ...]) -> LineFormat:
    """CSV lines of these span columns (scalar ones: what a table shows)."""
    texts = []
    for c in columns:
        template = _CSV_MONEY if c in MONEY_COLUMNS else _CSV_TEXT.get(SPAN_COLUMNS[c].split()[0])
        if template is None:
            raise ValueError(f"span column {c} is not a scalar: no CSV cell for it")
        texts.append(fill(template + " AS {{name}}", v=f"s.{ident(c)}", name=ident(c)))
    cells = [fill(_CSV_CELL, v=f"e.{ident(c)}") for c in columns]
    return LineFormat(", ".join(texts), " || ',' || ".join(cells) + " || chr(10)",
                      header=",".join(columns) + "\n")


# DuckDB keeps the table blocks it has read cached up to its memory limit (80% of the RAM unless
# set): a stream through a store would keep all of it. Capped, the cache gives way; a step's
# work takes a few MB of it. 1M spans: 250 MB peak RSS uncapped, 180-210 MB capped.
STREAM_MEMORY = "128MB"


def _cap_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Cap the memory of a connection to a store file, for the rest of its life (the command's):
    an in-memory store is its memory, and stays as it is."""
    if store_path(con) is not None:
        con.execute(fill("SET memory_limit = {{size}}", size=literal(STREAM_MEMORY)))


def span_lines(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None, limit: int,
               form: LineFormat) -> Iterator[Chunk]:
    """The spans a listing picks, at most `limit` (0 = all), as text: runs of whole lines in
    listing order, a step at a time, so that any number of spans streams in bounded memory
    (the connection's memory is capped for it). Cut or whole, in windows and steps of any size
    (WINDOW, STEP), the same spans give the same text."""
    _cap_memory(con)
    if form.header:
        yield Chunk("header", form.header, 0)
    for run in _runs(con, f, trace_id, limit, WINDOW, STEP):
        w = _window(f, trace_id, run.timed, run.lo, run.hi)
        cursor = con.execute(fill(_LINES, line=form.line, fields=form.fields, where=w.sql(),
                                  order=_SPAN_ORDER), w.params)
        while rows := cursor.fetchmany(_BATCH):
            yield Chunk("spans", "".join(row[0] for row in rows), len(rows))
