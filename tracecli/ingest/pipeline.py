"""One ingest: files in, spans out, in a single transaction that either lands whole or not at all."""

from __future__ import annotations

import copy
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

import duckdb

from tracecli import derive, pricing, redact
from tracecli.errors import BadInput, TraceCliError
from tracecli.ingest import content, macros, registry, salvage
from tracecli.ingest.base import Reader, ReadOptions, columns_literal
from tracecli.ingest.sources import (
    Source,
    expand,
    is_blank,
    locate_bad_element,
    locate_bad_line,
    locate_bad_row_group,
    peek_records,
)

# What a bad file raises inside DuckDB; anything else is a bug and propagates as such.
READ_ERRORS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException,
               duckdb.ConstraintException)
Progress = Callable[[Source, int, int], None]  # (file being read, bytes done, bytes in all)


@dataclass
class IngestResult:
    files: int = 0
    bytes: int = 0
    records: int = 0
    spans_added: int = 0
    feedback_added: int = 0
    duplicates: int = 0
    skipped: int = 0
    traces: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    seconds: float = 0.0
    by_format: Counter[str] = field(default_factory=Counter)
    skipped_files: int = 0  # --skip-bad: whole files that could not be read
    problems: list[str] = field(default_factory=list)  # --skip-bad: the first few, "file:line: what"

    @property
    def rows_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0


def _relation_sql(con: duckdb.DuckDBPyConnection, source: Source, reader: Reader) -> str:
    """The `src` relation: declared columns plus record number and file label (parameters 1, 2)."""
    if source.container == "parquet":
        return _cast_parquet(con, source, reader)
    return f"SELECT *, row_number() OVER () AS _row, $2::VARCHAR AS _file FROM {_scan_json(source, reader)}"


# DuckDB's JSON reader allocates buffers of twice the largest object it allows, per thread:
# 1 GiB made an ingest of any JSONL file hold 3+ GB. A JSONL line is one call (64 MiB leaves
# room for inline images); a whole JSON document may be one big object.
MAX_LINE = 64 << 20
MAX_DOCUMENT = 1 << 30


def _scan_json(source: Source, reader: Reader) -> str:
    """read_json over the reader's declared columns (the path is parameter 1)."""
    fmt = "newline_delimited" if source.container == "jsonl" else "auto"
    compression = "gzip" if source.gzipped else "none"
    largest = MAX_LINE if source.container == "jsonl" else MAX_DOCUMENT
    return (
        f"read_json($1, columns = {columns_literal(reader.columns)}, format = '{fmt}', "
        f"compression = '{compression}', maximum_object_size = {largest})"
    )


def _stage(con: duckdb.DuckDBPyConnection, source: Source, reader: Reader, options: ReadOptions,
           ingest_id: int) -> tuple[int, int]:
    """Add one file's new spans; returns (records read, spans added).

    A first pass computes only the record keys (DuckDB prunes the rest of the mapping), which
    gives the record count and which keys are new, against the store and within the file. A file
    already ingested stops there. Otherwise one streaming INSERT maps the file into `spans`, so
    a file of any size is never held in memory."""
    relation = _relation_sql(con, source, reader)
    mapped = f"WITH src AS ({relation}) SELECT * FROM ({reader.select(options)})"
    params = [source.path, source.label]
    try:
        if options.redact:
            mapped = redact.wrap(con, mapped, params)
        con.execute(f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT record_key FROM ({mapped})", params)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE keep AS SELECT DISTINCT record_key FROM incoming i
               WHERE NOT EXISTS (SELECT 1 FROM {reader.table} s WHERE s.record_key = i.record_key)"""
        )
        row = con.execute(
            "SELECT (SELECT count(*) FROM incoming), (SELECT count(*) FROM keep), "
            "(SELECT count(*) FROM incoming WHERE record_key IN (SELECT record_key FROM keep))"
        ).fetchone()
        records, new, arriving = (int(v) for v in row) if row else (0, 0, 0)
        if new:
            where = "" if arriving == records else " WHERE record_key IN (SELECT record_key FROM keep)"
            con.execute(f"INSERT INTO {reader.table} BY NAME SELECT *, $3::INTEGER AS ingest_id "  # noqa: S608
                        f"FROM ({mapped}){where}", [*params, ingest_id])
    except duckdb.Error as exc:
        # a damaged Parquet file raises engine errors of many kinds
        if isinstance(exc, READ_ERRORS) or source.container == "parquet":
            raise _read_error(source, exc, reader) from exc
        raise
    if arriving > new:
        _drop_repeats(con, reader.table, ingest_id)
    return records, new


def _drop_repeats(con: duckdb.DuckDBPyConnection, table: str, ingest_id: int) -> None:
    """A record key repeated within a file keeps its first occurrence."""
    con.execute(
        f"""DELETE FROM {table} WHERE ingest_id = $1 AND rowid IN (
             SELECT rowid FROM {table} WHERE ingest_id = $1
             QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY source_file, source_row) > 1)""",
        [ingest_id],
    )


def _cast_parquet(con: duckdb.DuckDBPyConnection, source: Source, reader: Reader) -> str:
    """Parquet columns are cast to the reader's declared types: JSON text columns to JSON, other
    values declared JSON to their JSON form (to_json)."""
    try:
        present = {
            row[0]: row[1]
            for row in con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))",
                [source.path],
            ).fetchall()
        }
    except duckdb.Error as exc:
        raise BadInput(f"{source.label}: not a readable Parquet file: {_first_line(exc)}") from exc
    exprs = []
    for name, ctype in reader.columns.items():
        quoted = '"' + name.replace('"', '""') + '"'
        if name not in present:
            exprs.append(f"NULL::{ctype} AS {quoted}")
        elif ctype == "JSON" and present[name] in ("VARCHAR", "JSON"):
            # JSON text is taken as JSON (one parse, by the mapping); other text stays a string
            exprs.append(f"coalesce(TRY_CAST({quoted} AS JSON), to_json({quoted})) AS {quoted}")
        elif ctype == "JSON":  # structs, lists, numbers: their JSON form
            exprs.append(f"(CASE WHEN {quoted} IS NULL THEN NULL ELSE to_json({quoted}) END) AS {quoted}")
        else:
            exprs.append(f"CAST({quoted} AS {ctype}) AS {quoted}")
    return (
        f"SELECT {', '.join(exprs)}, row_number() OVER () AS _row, $2::VARCHAR AS _file "
        "FROM read_parquet($1)"
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _read_error(source: Source, exc: duckdb.Error, reader: Reader) -> TraceCliError:
    """Error path only: where the file went wrong, computed here (DuckDB's own line numbers can
    be off by one)."""
    if isinstance(exc, duckdb.ConstraintException):  # a record without a key the store needs
        required = [c for c in ("record_key", "trace_id", "span_id") if c in reader.columns]
        found = locate_bad_line(source, {c: reader.columns[c] for c in required}) if (
            required and source.container == "jsonl") else None
        where = f"{source.label}:{found[0]}" if found else source.label
        return BadInput(f"{where}: a record lacks {' / '.join(required) or 'its id'}")
    if source.container == "jsonl":
        found = locate_bad_line(source)
    elif source.container == "json":
        found = locate_bad_element(source)
    else:
        group = locate_bad_row_group(source)
        if group:
            return BadInput(f"{source.label}: row group {group[0]}: {group[1]}" if group[0]
                            else f"{source.label}: {group[1]}")
        found = None
    if found:
        line, what = found
        return BadInput(f"{source.label}:{line}: {what}" if line else f"{source.label}: {what}")
    return BadInput(f"{source.label}: cannot read: {_first_line(exc)}")


def ingest(
    con: duckdb.DuckDBPyConnection,
    inputs: list[str],
    *,
    format_name: str | None = None,
    options: ReadOptions | None = None,
    progress: Progress | None = None,
    skip_bad: bool = False,
    rejects: BinaryIO | None = None,
) -> IngestResult:
    """Read every input and add its new spans to the store, all or nothing.

    A bad record fails the whole ingest, naming where it is; with `skip_bad` bad records (and
    unreadable files) are set aside instead, counted, and their raw lines written to `rejects`."""
    options = options or ReadOptions()
    started = time.perf_counter()
    result = IngestResult()
    with tempfile.TemporaryDirectory(prefix="tracecli-") as spool:
        sources = expand(inputs, spool)
        if skip_bad:
            sources, skipped = salvage.clean(con, sources, spool, rejects)
            result.skipped, result.skipped_files = skipped.records, skipped.files
            result.problems = skipped.positions
        blank = [s for s in sources if is_blank(s)]  # no records: nothing to detect or read
        result.files += len(blank)
        plan = [(s, registry.by_name(format_name) if format_name else
                 registry.detect(peek_records(s), s.label)) for s in sources
                if s not in blank and not (skip_bad and salvage.undetectable(s, result, format_name))]
        macros.install(con)
        registry.install_macros(con)
        if options.redact:
            redact.install(con)
        before, bounded = copy.deepcopy(result), False
        try:
            with _bounded_memory(con) as bounded:
                _run(con, plan, sources, options, progress, result)
        except duckdb.OutOfMemoryException:
            # one huge record (a 50 MB line) needs more than the cap in one piece: the ingest
            # rolled back whole, so it runs again with DuckDB's own limit
            if not bounded:
                raise
            result = before
            _run(con, plan, sources, options, progress, result)
    result.duplicates = result.records - result.spans_added - result.feedback_added
    result.seconds = time.perf_counter() - started
    return result


def _run(con: duckdb.DuckDBPyConnection, plan: list[tuple[Source, Reader]], sources: list[Source],
         options: ReadOptions, progress: Progress | None, result: IngestResult) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        ingest_id = _next_ingest_id(con)
        total_bytes = sum(s.size for s in sources)
        for source, reader in plan:
            if progress:
                progress(source, result.bytes, total_bytes)
            n, added = _stage(con, source, reader, options, ingest_id)
            result.records += n
            if reader.table == "spans":
                result.spans_added += added
            else:
                result.feedback_added += added
            result.by_format[reader.name] += n
            result.files += 1
            result.bytes += source.size
        content.merge(con, ingest_id)  # log-record content joined to its spans
        pricing.price_missing(con, ingest_id)
        derive.refresh(con, ingest_id)
        _record_ingest(con, ingest_id, [s.label for s in sources], result)
        _count_added(con, ingest_id, result)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# An ingest of a big file streams, but its joins and aggregates (record keys, tool calls,
# summaries) grow with the file. Under this limit DuckDB spills them to its temp directory
# (next to the store file) instead of growing the process: a 5 GB file needs ~2 GB without it.
INGEST_MEMORY_LIMIT = 1 << 30
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}


def _setting_bytes(text: str) -> int | None:
    m = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", text)
    unit = _UNITS.get(m.group(2).upper() or "B") if m else None
    return int(float(m.group(1)) * unit) if m and unit else None


@contextmanager
def _bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[bool]:
    """Cap DuckDB's memory for the ingest of a store on disk (which can spill), then restore it;
    yields whether it capped."""
    row = con.execute("SELECT path, current_setting('memory_limit') FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    current = _setting_bytes(str(row[1])) if row else None
    if not row or not row[0] or current is None or current <= INGEST_MEMORY_LIMIT:
        yield False  # an in-memory store cannot spill its tables; a lower limit is kept as set
        return
    con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}B'")
    try:
        yield True
    finally:
        con.execute("RESET memory_limit")
        after = con.execute("SELECT current_setting('memory_limit')").fetchone()
        if after and after[0] != row[1]:  # it had been set: put back (to the displayed precision)
            con.execute(f"SET memory_limit = '{current}B'")


def _next_ingest_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchone()
    return int(row[0]) if row else 1


def _record_ingest(con: duckdb.DuckDBPyConnection, ingest_id: int, labels: list[str],
                   result: IngestResult) -> None:
    con.execute(
        "INSERT INTO ingests VALUES ($1, now()::TIMESTAMP, now()::TIMESTAMP, $2, $3, $4)",
        [ingest_id, labels, result.records, result.spans_added],
    )


def _count_added(con: duckdb.DuckDBPyConnection, ingest_id: int, result: IngestResult) -> None:
    row = con.execute(
        """SELECT count(DISTINCT trace_id), count(*) FILTER (WHERE kind = 'llm'),
                  (SELECT count(*) FROM new_tool_calls)
           FROM spans WHERE ingest_id = $1""", [ingest_id]
    ).fetchone()
    if row:
        result.traces, result.llm_calls, result.tool_calls = (int(v or 0) for v in row)
