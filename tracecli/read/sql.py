"""`tracecli sql`: one read-only SELECT over the documented views (tracecli.read.views).

What keeps it read-only is DuckDB's, not a pattern over the SQL text: DuckDB's own parser says
what kind of statement it is (only SELECT runs: DESCRIBE, SHOW, SUMMARIZE and FROM-first queries
are SELECTs), the store file is opened read-only (DuckDB refuses any write to it), and once the
views exist the connection loses access to files (`enable_external_access`: no read_csv,
read_json, read_parquet, read_text, glob, COPY, ATTACH, INSTALL, secrets) and its settings are
locked (no SET or RESET brings access back).

Measured on DuckDB 2.0.1: the read-only file alone refuses INSERT, UPDATE, DELETE and CREATE on
the store, but still runs PRAGMA, SET, LOAD, VACUUM, CHECKPOINT and CREATE TEMP (harmless to the
file, yet not queries), and an in-memory store (`--from`) refuses nothing; hence the parser's
word on the statement's kind. No file reader runs once external access is off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from tracecli.errors import ExitCode, TraceCliError, first_line
from tracecli.read import views
from tracecli.store.connection import is_interrupt, store_path, store_problem

# Column types whose values Python and JSON take as DuckDB gives them.
_PLAIN_TYPES = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
                "VARCHAR", "DATE", "TIMESTAMP")
# Values render.output.jsonable writes (a datetime is a date).
_JSON_READY = (str, int, float, bool, date, Decimal)
INTEGER_TYPES = frozenset(t for t in _PLAIN_TYPES if t.endswith("INT") or t == "INTEGER")
FLOAT_TYPES = frozenset(("FLOAT", "DOUBLE"))


@dataclass(frozen=True)
class Result:
    """A query's columns (name, DuckDB type) and its rows keyed by column name."""

    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """The views, then no files and no setting changes for the rest of the connection's life."""
    views.install(con)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def run(con: duckdb.DuckDBPyConnection, query: str) -> Result:
    """One SELECT over a `lock_down` connection; anything else is refused before it runs."""
    with _as_usage(con):
        statements = con.extract_statements(query)
        if len(statements) != 1:
            raise TraceCliError(f"tracecli sql runs one statement; this holds {len(statements)}",
                                ExitCode.USAGE)
        kind = statements[0].type
        if kind != duckdb.StatementType.SELECT:
            raise TraceCliError(f"tracecli sql is read-only: {kind.name} statements are refused "
                                "(SELECT only)", ExitCode.USAGE)
        cursor = con.execute(statements[0])  # the statement checked, not the text again
        described = [(str(d[0]), str(d[1])) for d in cursor.description or []]
        names = _unique([name for name, _ in described])
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    columns = list(zip(names, (t for _, t in described), strict=True))
    for name, sql_type in columns:
        if sql_type.split("(")[0] not in _PLAIN_TYPES:
            convert = _decoded if sql_type == "JSON" else _plain
            for row in rows:
                row[name] = convert(row[name])
    return Result(columns, rows)


@contextmanager
def _as_usage(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's errors in the user's SQL (parser, binder, catalog, a file it may not read) as
    usage errors in one line; the store's own failures stay the store's."""
    try:
        yield
    except duckdb.Error as exc:
        if is_interrupt(exc):
            raise
        problem = store_problem(exc, store_path(con))
        if problem is not None:
            raise problem from exc
        if isinstance(exc, duckdb.PermissionException):
            raise TraceCliError("tracecli sql reads the store's views only, no files: "
                                f"{first_line(exc)}", ExitCode.USAGE) from exc
        raise TraceCliError(f"query failed: {first_line(exc)}", ExitCode.USAGE) from exc


def _unique(names: list[str]) -> list[str]:
    """Column names as row keys: a name given twice (`SELECT a.id, b.id`) gets a suffix."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if not n else f"{name}_{n}")
    return out


def _decoded(value: Any) -> Any:
    """A JSON column's text as the value it holds."""
    return json.loads(value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    """Values JSON has no type for (UUID, BLOB, INTERVAL, TIME) as text, inside lists,
    structs and maps too."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, _JSON_READY):
        return value
    return str(value)
