"""One ingest: files in, spans out, in a single transaction that either lands whole or not at all."""

from __future__ import annotations

import copy
import os
import re
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import duckdb

from tracecli.errors import BadInput, Interrupted, TraceCliError, first_line
from tracecli.ingest import detached_content as content
from tracecli.ingest import pricing, redact, routing, salvage, scan
from tracecli.ingest.formats import registry
from tracecli.ingest.formats.base import Reader, ReadOptions
from tracecli.ingest.inputs import (
    NO_FIELDS,
    READ_ERRORS,
    Batch,
    Input,
    Source,
    batchable,
    batches,
    expand,
    is_blank,
    locate_bad_element,
    locate_bad_line,
    locate_bad_row_group,
    refuse_lines_longer_than,
    together,
)
from tracecli.ingest.routing import Route
from tracecli.ingest.scan import LONG_LINE, MAX_LINE
from tracecli.sql.template import fill, ident, literal, merge
from tracecli.store import rollup
from tracecli.store import summaries as derive
from tracecli.store.connection import configure, is_interrupt, store_failures, store_path

# (file being read, bytes done, bytes in all): before each statement, then from a thread while
# it reads (`_ticking`)
Progress = Callable[[Source, int, int], None]


@dataclass
class IngestResult:
    files: int = 0
    bytes: int = 0
    records: int = 0
    spans_added: int = 0
    content_added: int = 0  # log records carrying a call's messages (joined to its span)
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


def _relation_sql(source: Input, route: Route, stored: dict[str, str], reading: _Reading) -> str:
    """The `src` relation of the route's reader: its declared columns (with what its records'
    labels are computed from, when the file is routed) plus record number and file label
    (`$label`), of the records that are its own; `stored` is a Parquet file's own columns.

    DuckDB numbers JSON records only through a window over the whole file, which runs on one
    thread, slower than the rest of the ingest, and nothing to number them with afterwards (an
    UPDATE of the new rows makes DuckDB write them all again at commit).
    Readers whose records carry their own id (`row_per_record`) are read unnumbered, in
    parallel: their `_row` is NULL, whatever the file type, so that the same records read from
    JSONL or Parquet are the same spans. Parquet numbers its rows itself."""
    reader = route.reader
    columns = reader.columns if route.mode == "all" else routing.columns_for(reader)
    check, where = "true", "true"
    if route.mode == "filter":
        where = routing.condition(route, columns)
    elif route.mode == "guard":
        check = routing.condition(route, columns)
    else:
        fields = [c for c in reader.columns if c in stored] if source.container == "parquet" else reader.columns
        if reading.skip_bad:
            where = _holds_any(fields)
        else:
            check = _is_record(fields)
    return scan.relation(source, columns, stored, numbered=not reader.row_per_record,
                         where=where, check=check, max_line=reading.max_line)


def _is_record(fields: Iterable[str]) -> str:
    """A JSON value or Parquet row with none of the reader's fields (a `null` line, `{}`, a row
    of nulls) holds no record: the ingest fails on it, naming where it is (`_read_error`), or
    with --skip-bad it is dropped (`_holds_any`; counted by `_set_aside_empty`)."""
    return fill("({{present}} OR error({{message}}))", present=_holds_any(fields),
                message=literal(NO_FIELDS))


def _holds_any(fields: Iterable[str]) -> str:
    """SQL: the record has a value in any of `fields` (a file with none of them: no record)."""
    present = " OR ".join(fill("{{column}} IS NOT NULL", column=ident(c)) for c in fields)
    return fill("({{present}})", present=present or "false")


class _LongLine(Exception):
    """A JSONL line of `source` longer than the ingest allowed: it runs again, allowing
    LONG_LINE, unless a line is longer than that (`_refuse_longer_lines`)."""

    def __init__(self, source: Source) -> None:
        super().__init__(source.label)
        self.source = source


def _refuse_longer_lines(source: Input) -> None:
    """Before DuckDB is asked to allow LONG_LINE: a JSONL line longer than that fails the
    ingest here, naming it, found by one streaming pass (`refuse_lines_longer_than`). DuckDB
    would take buffers of twice the allowance per thread to refuse it, and the error path then
    read the line whole to say where it was: gigabytes for a gzip expanding to one long line."""
    if isinstance(source, Source) and source.container == "jsonl":
        refuse_lines_longer_than(source, LONG_LINE)


class _Unbatch(Exception):
    """A statement reading small files together failed: the ingest runs again reading each
    file on its own, which names what is wrong where."""


class _Relabel(Exception):
    """A file routed whole to one reader holds a record of another format: the ingest runs
    again with that file labelled record by record."""

    def __init__(self, source: Source) -> None:
        super().__init__(source.label)
        self.source = source


@dataclass(frozen=True)
class _Reading:
    """How one run of an ingest reads its JSON files."""
    max_line: int = MAX_LINE
    skip_bad: bool = False
    batch: bool = True  # small files of one reader read together (inputs.Batch)
    trusted: bool = True  # small files trusted to the first one's reader (routing.plan_batch)


Step = tuple[Source, Route]  # a file, and one reader of its records


def _merged(plan: list[Step]) -> list[tuple[Input, Route]]:
    """The plan with the steps of small files that one reader reads whole (records with ids
    of their own, so unnumbered) made one step each: one statement for a folder of files."""
    def key(source: Source, route: Route) -> tuple[str, bool, str, str] | None:
        if not (batchable(source) and route.reader.row_per_record):
            return None
        return source.container, source.gzipped, route.reader.name, route.mode

    return together(plan, key)


def _mapped(con: duckdb.DuckDBPyConnection, source: Input, route: Route,
            options: ReadOptions, reading: _Reading) -> str:
    """The file's records as span (or feedback) rows, named by their format, masked when asked."""
    reader = route.reader
    stored = (scan.parquet_columns(con, source)
              if isinstance(source, Source) and source.container == "parquet" else {})
    relation = _relation_sql(source, route, stored, reading)
    select = reader.select(options)
    if reader.stamped_format is None:
        mapped = fill(_MAPPED, relation=relation, select=select)
    else:
        mapped = fill(_MAPPED_STAMPED, relation=relation, select=select,
                      format=literal(reader.stamped_format))
    return redact.wrap(con, mapped, reader.table) if options.redact else mapped


_MAPPED = "WITH src AS ({{relation}}) SELECT * FROM ({{select}})"
_MAPPED_STAMPED = "WITH src AS ({{relation}}) SELECT *, {{format}} AS source_format FROM ({{select}})"


def _stage(con: duckdb.DuckDBPyConnection, source: Input, route: Route, options: ReadOptions,
           ingest_id: int, reading: _Reading) -> int:
    """Insert one file's records; returns how many it holds.

    A file whose first record is new is inserted whole, in parallel (duplicates are dropped once
    the ingest's files are all in: `_drop_duplicates`). A file whose first record is stored
    already (a re-ingest, a log that grew) is read twice: its record keys first, then only the
    records the store lacks, so re-reading a file costs a fraction of its first ingest."""
    params, reader = scan.params(source), route.reader
    try:
        mapped = _mapped(con, source, route, options, reading)
        stored = _first_record_stored(con, mapped, params, reader.table, ingest_id)
        insert = _insert_new if stored else _insert_all
        with _unordered(con) if reader.row_per_record else nullcontext():
            return insert(con, mapped, params, reader.table, ingest_id)
    except duckdb.Error as exc:
        if isinstance(source, Batch):
            raise _Unbatch from exc
        if routing.MIXED in str(exc):
            raise _Relabel(source) from exc
        if "maximum_object_size" in str(exc) and reading.max_line < LONG_LINE:
            raise _LongLine(source) from exc
        # a damaged Parquet file raises engine errors of many kinds
        if isinstance(exc, READ_ERRORS) or source.container == "parquet":
            raise _read_error(con, source, exc, route) from exc
        raise


@contextmanager
def _unordered(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB write rows in whatever order its threads finish (faster than file order). Only
    for records with ids: of two copies of one record in one file, either may be kept. Records
    numbered in SQL need file order."""
    con.execute("SET preserve_insertion_order = false")
    yield
    # as store.connection.configure has it (a failed ingest restores it when rolled back: `_run`)
    con.execute("SET preserve_insertion_order = true")


def _first_record_stored(con: duckdb.DuckDBPyConnection, mapped: str, params: dict[str, object],
                         table: str, ingest_id: int) -> bool:
    """Whether an earlier ingest stored the file's first record. Where none stored anything (a
    new store, `--from`), the mapping is not bound for it: binding one takes up to 0.4 s."""
    name, when = _table_names(table)
    earlier = fill("SELECT 1 FROM {{table}} WHERE ingest_id < $ingest_id LIMIT 1", table=name)
    if con.execute(earlier, {"ingest_id": ingest_id}).fetchone() is None:
        return False
    first = con.execute(fill("SELECT record_key, {{when}} FROM ({{mapped}}) LIMIT 1",
                             when=when, mapped=mapped), params).fetchone()
    if not first:
        return False
    found = con.execute(fill(_STORED, table=name, when=when),
                        {"key": first[0], "time": first[1]}).fetchone()
    return bool(found and found[0])


_STORED = """SELECT count(*) FROM {{table}}
WHERE record_key = $key AND {{when}} IS NOT DISTINCT FROM $time"""


def _table_names(table: str) -> tuple[str, str]:
    """The table's name and its time column's, as fragments of the statements below."""
    return ident(table), ident(TIME_COLUMN[table])


_INSERT = """INSERT INTO {{table}} BY NAME
SELECT *, $ingest_id::INTEGER AS ingest_id FROM ({{mapped}}){{where}}"""


def _insert_all(con: duckdb.DuckDBPyConnection, mapped: str, params: dict[str, object], table: str,
                ingest_id: int) -> int:
    """Every record, in one streaming insert."""
    row = con.execute(fill(_INSERT, table=ident(table), mapped=mapped, where=""),
                      merge(params, {"ingest_id": ingest_id})).fetchone()
    return int(row[0]) if row else 0


_KEEP = """CREATE OR REPLACE TEMP TABLE keep AS SELECT DISTINCT record_key FROM incoming i
WHERE NOT EXISTS (SELECT 1 FROM {{table}} s WHERE s.record_key = i.record_key)"""


def _insert_new(con: duckdb.DuckDBPyConnection, mapped: str, params: dict[str, object], table: str,
                ingest_id: int) -> int:
    """Records whose keys the store lacks. A first pass computes only the record keys (DuckDB
    prunes the rest of the mapping); a file already ingested stops there. The insert streams,
    so a file of any size is never held in memory."""
    con.execute(fill("CREATE OR REPLACE TEMP TABLE incoming AS SELECT record_key FROM ({{mapped}})",
                     mapped=mapped), params)
    con.execute(fill(_KEEP, table=ident(table)))
    row = con.execute(
        "SELECT (SELECT count(*) FROM incoming), (SELECT count(*) FROM keep), "
        "(SELECT count(*) FROM incoming WHERE record_key IN (SELECT record_key FROM keep))"
    ).fetchone()
    records, new, arriving = (int(v) for v in row) if row else (0, 0, 0)
    if new:
        where = "" if arriving == records else " WHERE record_key IN (SELECT record_key FROM keep)"
        con.execute(fill(_INSERT, table=ident(table), mapped=mapped, where=where),
                    merge(params, {"ingest_id": ingest_id}))
    return records


# The store column that holds a record's time, by table: a record read again has the same time,
# so only stored rows within the time range of an ingest's rows can repeat them (zone maps skip
# the rest of a large store).
TIME_COLUMN = {"spans": "start_time", "feedback": "created_at"}


def _drop_duplicates(con: duckdb.DuckDBPyConnection, table: str, ingest_id: int) -> int:
    """Remove this ingest's rows whose records are stored already, or repeated within the ingest
    (one copy is kept: the earlier file's; within a file read unordered, either); returns how
    many."""
    name, when = _table_names(table)
    mine = {"ingest_id": ingest_id}
    span = con.execute(fill("SELECT min({{when}}), max({{when}}) FROM {{table}} "
                            "WHERE ingest_id = $ingest_id", table=name, when=when), mine).fetchone()
    since, until = span or (None, None)
    con.execute(fill(_DROPPED, table=name, when=when), merge(mine, {"since": since, "until": until}))
    row = con.execute("SELECT count(*) FROM dropped").fetchone()
    dropped = int(row[0]) if row else 0
    if dropped:
        con.execute(fill("DELETE FROM {{table}} WHERE rowid IN (SELECT rid FROM dropped)",
                         table=name))
    return dropped


_DROPPED = """CREATE OR REPLACE TEMP TABLE dropped AS
WITH mine AS (SELECT rowid AS rid, record_key FROM {{table}} WHERE ingest_id = $ingest_id),
stored AS (
  SELECT record_key FROM {{table}} WHERE ingest_id <> $ingest_id AND {{when}} BETWEEN $since AND $until
  UNION ALL
  SELECT record_key FROM {{table}} WHERE ingest_id <> $ingest_id AND {{when}} IS NULL),
repeated AS (SELECT record_key FROM mine GROUP BY record_key HAVING count(*) > 1)
SELECT rid FROM mine WHERE record_key IN (SELECT record_key FROM stored)
UNION
SELECT rid FROM mine WHERE record_key IN (SELECT record_key FROM repeated)
QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY rid) > 1"""


_EMPTY_ROWS = """SELECT count(*), list(file_row_number + 1 ORDER BY file_row_number)[1:{{shown}}]
FROM read_parquet($path, file_row_number = true) WHERE NOT {{present}}"""


def _empty_rows(con: duckdb.DuckDBPyConnection, source: Source,
                reader: Reader) -> tuple[int, list[int]]:
    """Error path and --skip-bad only: how many rows of a Parquet file hold none of the
    reader's fields, and the first few (1-based)."""
    stored = scan.parquet_columns(con, source)
    present = _holds_any(c for c in reader.columns if c in stored)
    row = con.execute(fill(_EMPTY_ROWS, present=present, shown=str(salvage.SHOWN)),
                      {"path": source.path}).fetchone()
    return (int(row[0]), [int(n) for n in row[1] or []]) if row else (0, [])


_EMPTY_JSON = "SELECT count(*) FROM {{scan}} WHERE NOT {{present}}"


def _holds_empty(con: duckdb.DuckDBPyConnection, source: Source, reader: Reader) -> bool:
    """--skip-bad only: whether a JSON file holds records with none of the reader's fields,
    by one SQL pass (they are then looked for line by line)."""
    sql = fill(_EMPTY_JSON, scan=scan.json_scan(source, reader.columns, MAX_LINE),
               present=_holds_any(reader.columns))
    try:
        row = con.execute(sql, {"path": source.path}).fetchone()
    except duckdb.Error:  # a line longer than the scan allows, say: the scan by line decides
        return True
    return bool(row and row[0])


def _set_aside_empty(con: duckdb.DuckDBPyConnection, plan: list[Step],
                     skipped: salvage.Skipped, rejects: BinaryIO | None) -> None:
    """--skip-bad with --format: the records the ingest drops for holding none of the reader's
    fields (`_is_record`), counted and named like any other bad record, before the ingest
    begins. (Routed files set aside the records no reader claims: tracecli.ingest.routing.)"""
    for source, route in plan:
        reader = route.reader
        if route.mode != "all":
            continue
        if source.container == "parquet":
            count, rows = _empty_rows(con, source, reader)
            skipped.note_many([f"{source.label}: row {n}" for n in rows], NO_FIELDS, count)
        elif _holds_empty(con, source, reader):
            salvage.set_aside_empty(source, reader.columns, skipped, rejects)


def _read_error(con: duckdb.DuckDBPyConnection, source: Source, exc: duckdb.Error,
                route: Route | None) -> TraceCliError:
    """Error path only: where the file went wrong, computed here (DuckDB's own line numbers can
    be off by one). A record with none of the reader's fields is a fault only where the reader
    reads every record (`all`); routed, it is another reader's. No route: while labelling."""
    fields = route.reader.columns if route and route.mode == "all" else None
    if route and isinstance(exc, duckdb.ConstraintException):  # a record lacks a key the store needs
        reader = route.reader
        required = [c for c in ("record_key", "trace_id", "span_id") if c in reader.columns]
        found = locate_bad_line(source, {c: reader.columns[c] for c in required}) if (
            required and source.container == "jsonl") else None
        where = f"{source.label}:{found[0]}" if found else source.label
        return BadInput(f"{where}: a record lacks {' / '.join(required) or 'its id'}")
    if source.container == "jsonl":
        found = locate_bad_line(source, fields)
    elif source.container == "json":
        found = locate_bad_element(source, columns=fields)
    else:
        rows: list[int] = []
        if route and NO_FIELDS in str(exc):
            with con.cursor() as fresh:  # outside the ingest's transaction, which failed
                rows = _empty_rows(fresh, source, route.reader)[1]
        if rows:
            return BadInput(f"{source.label}: row {rows[0]}: {NO_FIELDS}")
        group = locate_bad_row_group(source)
        if group:
            return BadInput(f"{source.label}: row group {group[0]}: {group[1]}" if group[0]
                            else f"{source.label}: {group[1]}")
        found = None
    if found:
        line, what = found
        return BadInput(f"{source.label}:{line}: {what}" if line else f"{source.label}: {what}")
    return BadInput(f"{source.label}: cannot read: {first_line(exc)}")


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
        skipped = salvage.Skipped() if skip_bad else None
        sources = expand(inputs, spool, unreadable=skipped.skip_file if skipped else None)
        if skipped is not None:
            sources = salvage.clean(con, sources, spool, rejects, skipped)
        blank = [s for s in sources if is_blank(s)]  # no records: nothing to detect or read
        result.files += len(blank)
        plan = _plan(con, [s for s in sources if s not in blank], format_name, skipped, rejects)
        if skipped is not None:
            _set_aside_empty(con, plan, skipped, rejects)
        if rejects is not None:
            rejects.flush()  # a rejects file that cannot be written stops the ingest before it begins
        registry.install_macros(con, (route.reader for _, route in plan), options)
        if options.redact:
            redact.install(con)

        def replan(plan: list[Step], again: list[Source], whole: bool) -> list[Step]:
            """The plan with the files `again` planned once more, where the first of them
            was: labelled record by record (`whole`), or small ones together, then each."""
            paths = {s.path for s in again}
            at = next(i for i, step in enumerate(plan) if step[0].path in paths)
            rest = [step for step in plan[at:] if step[0].path not in paths]
            again_plan = _plan(con, again, None, skipped, rejects, frozenset(paths), together=not whole)
            registry.install_macros(con, (route.reader for _, route in again_plan), options)
            return plan[:at] + again_plan + rest

        ingest_id, result = _run_all(con, plan, sources, options, progress, result,
                                     _Reading(skip_bad=skip_bad), replan)
        if skipped is not None:
            result.skipped, result.skipped_files = skipped.records, skipped.files
            result.problems = skipped.problems
        _settle_stored(con, ingest_id)
    result.duplicates = (result.records - result.spans_added - result.content_added
                         - result.feedback_added)
    result.seconds = time.perf_counter() - started
    return result


def _plan(con: duckdb.DuckDBPyConnection, sources: list[Source], format_name: str | None,
          skipped: salvage.Skipped | None, rejects: BinaryIO | None,
          labelled: frozenset[str] = frozenset(), together: bool = False) -> list[Step]:
    """Each file with its readers (tracecli.ingest.routing), or with the one `format_name`
    names. A file whose records no reader claims fails the ingest, or with --skip-bad
    (`skipped`) those records are set aside; an unreadable file is set aside whole. Files in
    `labelled` (paths) are labelled record by record, small ones `together` by one pass over
    them all. Otherwise small files of one kind are trusted to the reader of the first of
    them (`routing.plan_batch`), checked as they are read."""
    if format_name:
        reader = registry.by_name(format_name)
        return [(source, Route(reader, "all")) for source in sources]
    known: dict[str, list[Route]] = {}
    for item in batches(sources) if together or not labelled else []:
        if isinstance(item, Batch) and together:
            known.update(routing.label_batch(con, item, MAX_LINE))
        elif isinstance(item, Batch):
            known.update(routing.plan_batch(con, item, MAX_LINE) or {})
    plan: list[Step] = []
    for source in sources:
        if source.path in known:
            plan.extend((source, route) for route in known[source.path])
            continue
        try:
            plan.extend((source, route) for route in _routes(con, source, skipped, rejects,
                                                             source.path in labelled))
        except BadInput as exc:
            if skipped is None:
                raise
            skipped.skip_file(source.label, exc)
    return plan


def _routes(con: duckdb.DuckDBPyConnection, source: Source, skipped: salvage.Skipped | None,
            rejects: BinaryIO | None, whole: bool) -> list[Route]:
    """One file's readers; a file DuckDB cannot read fails here, naming where."""
    for max_line in (MAX_LINE, LONG_LINE):
        try:
            return routing.plan_file(con, source, whole=whole, max_line=max_line,
                                     skipped=skipped, rejects=rejects)
        except duckdb.Error as exc:
            if "maximum_object_size" in str(exc) and max_line < LONG_LINE:
                _refuse_longer_lines(source)
                continue
            if isinstance(exc, READ_ERRORS) or source.container == "parquet":
                raise _read_error(con, source, exc, None) from exc
            raise
    raise AssertionError("unreachable")


def _run_all(con: duckdb.DuckDBPyConnection, plan: list[Step], sources: list[Source],
             options: ReadOptions, progress: Progress | None, result: IngestResult,
             reading: _Reading, replan: Callable[[list[Step], list[Source], bool], list[Step]]
             ) -> tuple[int, IngestResult]:
    """`_run`, again from the start (it rolled back whole) as often as it asks, each time
    with what it lacked: long lines allowed; a file of mixed formats labelled record by
    record; DuckDB's own memory limit, when one huge record needs more than the ingest's cap
    in one piece. Returns the ingest's id and its result."""
    before, capped = copy.deepcopy(result), True
    while True:
        bounded = False
        try:
            with _bounded_memory(con) if capped else nullcontext(False) as bounded:
                return _run(con, plan, sources, options, progress, result, reading), result
        except _LongLine as long:
            _refuse_longer_lines(long.source)
            reading = replace(reading, max_line=LONG_LINE)
        except _Relabel as mixed:
            plan = replan(plan, [mixed.source], True)
        except _Unbatch:
            # files trusted to one reader are labelled (together), then read one by one
            guarded = list({s.path: s for s, route in plan if route.mode == "guard"}.values())
            if reading.trusted and guarded:
                plan = replan(plan, guarded, False)
            reading = replace(reading, batch=reading.trusted, trusted=False)
        except duckdb.OutOfMemoryException:
            if not bounded:
                raise
            capped = False
        result = copy.deepcopy(before)


def _run(con: duckdb.DuckDBPyConnection, plan: list[Step], sources: list[Source],
         options: ReadOptions, progress: Progress | None, result: IngestResult,
         reading: _Reading) -> int:
    """The whole ingest, in one transaction; returns its id. However it fails (a bad record,
    Ctrl-C, a full disk), it leaves the store as it was and says so."""
    held: list[int] = []
    with store_failures(store_path(con), "nothing was added"):
        con.execute("BEGIN TRANSACTION")
        try:
            ingest_id = _steps(con, plan, sources, options, progress, result, reading)
            with _interrupts_held(held):  # the COMMIT's outcome is then known: all of it, or none
                con.execute("COMMIT")
        except BaseException:
            _roll_back(con)
            raise
    if held:
        raise Interrupted(STORED_FIRST)
    return ingest_id


def _steps(con: duckdb.DuckDBPyConnection, plan: list[Step],
           sources: list[Source], options: ReadOptions, progress: Progress | None,
           result: IngestResult, reading: _Reading) -> int:
    """Everything an ingest writes, inside its transaction; returns its id."""
    ingest_id = _next_ingest_id(con)
    total_bytes = sum(s.size for s in sources)
    read: set[str] = set()
    for item, route in _merged(plan) if reading.batch else plan:
        files = item.sources if isinstance(item, Batch) else (item,)
        fresh = sum(s.size for s in files if s.path not in read)  # a file's second reader: 0
        with _ticking(progress, files, (result.bytes, fresh, total_bytes)) if progress else nullcontext():
            n = _stage(con, item, route, options, ingest_id, reading)
        result.records += n
        result.by_format[route.reader.name] += n
        for source in files:
            if source.path not in read:
                read.add(source.path)
                result.files += 1
                result.bytes += source.size
    for table in sorted({route.reader.table for _, route in plan}):
        _drop_duplicates(con, table, ingest_id)
    result.spans_added, result.content_added, result.feedback_added = _rows_of_ingest(con, ingest_id)
    pricing.price_missing(con, ingest_id)
    rollup.add(con, ingest_id)
    content.merge(con, ingest_id)  # log-record content joined to its spans (marks them ours)
    derive.refresh(con, ingest_id)
    _record_ingest(con, ingest_id, [s.label for s in sources], result)
    _count_added(con, ingest_id, result)
    return ingest_id


TICK_SECONDS = 0.2  # how often the bar moves while one statement reads


@contextmanager
def _ticking(progress: Progress, files: tuple[Source, ...], bytes_: tuple[int, int, int]
             ) -> Iterator[None]:
    """Report `files` begun, then, while the statement inside reads them, how far into them it
    is, from the bytes the process has read since (`_bytes_read`; compressed bytes for a gzip,
    as the sizes are), then read. `bytes_`: done before them, theirs (`size`), in all.
    DuckDB's own query_progress() does not serve: for a JSON file it stays at the share of the
    first buffer until the whole file is read. A thread ticks, stopped and joined however the
    statement ends (an error, Ctrl-C), so that no report of it follows the statement."""
    done, size, total = bytes_
    progress(files[0], done, total)
    start = _bytes_read()
    if start is None or not size:
        yield
        progress(files[-1], done + size, total)
        return
    stop = threading.Event()

    def tick() -> None:
        before = start[0] + start[1]  # not counting the ticker's own reads of the counter
        while not stop.wait(TICK_SECONDS):
            now = _bytes_read()
            if now is None:
                return
            within = min(max(now[0] - before, 0), size)
            before += now[1]
            progress(_file_at(files, within), done + within, total)

    ticker = threading.Thread(target=tick, name="tracecli-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
    progress(files[-1], done + size, total)


def _file_at(files: tuple[Source, ...], offset: int) -> Source:
    """The file of a batch that `offset` bytes into them all falls in (read in order)."""
    for source in files:
        if offset < source.size:
            return source
        offset -= source.size
    return files[-1]


def _bytes_read() -> tuple[int, int] | None:
    """Bytes this process has read so far (Linux's /proc/self/io `rchar`, whether from disk or
    cache), and how many this read of it adds; None where the system does not say (the bar
    then moves by files)."""
    try:
        fd = os.open("/proc/self/io", os.O_RDONLY)
        try:
            data = os.read(fd, 4096)  # one read: the counter counts it
        finally:
            os.close(fd)
        rchar = next(line for line in data.splitlines() if line.startswith(b"rchar:"))
        return int(rchar.split()[1]), len(data)
    except (OSError, ValueError, StopIteration):
        return None


STORED_FIRST = "after the ingest was stored"


def _roll_back(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the ingest's transaction without hiding why it failed."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass  # a COMMIT that failed rolled back already
    except duckdb.Error:
        return  # the connection is lost: what it had not committed is gone with it
    try:
        configure(con)  # the session settings and macros, as before the transaction
    except duckdb.Error:
        pass


@contextmanager
def _interrupts_held(held: list[int]) -> Iterator[None]:
    """Ctrl-C waits for the statement inside and is noted in `held`, so that a COMMIT either
    lands or not and tracecli knows which. Only where Python's own handler is in place (a
    process's main thread)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _settle_stored(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """`settle` an ingest already committed: whatever stops it, the ingest is in the store, and
    the message says so."""
    try:
        with store_failures(store_path(con), "the ingest was stored all the same (its "
                            "write-ahead log holds it until the file can take it)"):
            settle(con, ingest_id)
    except BaseException as exc:
        if is_interrupt(exc):
            raise Interrupted(STORED_FIRST) from exc
        raise


def settle(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Write the ingest to the store file now, and record when it finished.

    The checkpoint after a bulk insert (DuckDB writes big inserts straight to the file) leaves
    the next checkpoint work that grows with the store, paid by whatever writes next, however
    small. A second checkpoint here pays it, so that the next append costs in proportion to
    what it adds; after a small ingest it is cheap."""
    con.execute("CHECKPOINT")
    con.execute("UPDATE ingests SET finished_at = now()::TIMESTAMP WHERE ingest_id = $ingest_id",
                {"ingest_id": ingest_id})
    con.execute("CHECKPOINT")


# An ingest of a big file streams, but DuckDB keeps the blocks it writes cached, and the joins
# and aggregates of tool calls and summaries grow with the file. Under this limit it evicts and
# spills (next to the store file) instead of growing the process; a lower limit saves less memory
# than it costs in speed (benchmarks/README.md).
INGEST_MEMORY_LIMIT = 7 << 28  # 1.75 GiB
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
    _set_memory_limit(con, INGEST_MEMORY_LIMIT)
    try:
        yield True
    finally:
        con.execute("RESET memory_limit")
        after = con.execute("SELECT current_setting('memory_limit')").fetchone()
        if after and after[0] != row[1]:  # it had been set: put back (to the displayed precision)
            _set_memory_limit(con, current)


def _set_memory_limit(con: duckdb.DuckDBPyConnection, limit: int) -> None:
    con.execute("SET memory_limit = $limit", {"limit": f"{limit}B"})


def _next_ingest_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchone()
    return int(row[0]) if row else 1


# What the ingest added, before its content rows move to span_content: spans, content rows that
# table lacks (one stored before is no addition, though it is not in spans to be found a
# duplicate of), and feedback records.
_ROWS_OF_INGEST = """SELECT
  count(*) FILTER (WHERE kind IS DISTINCT FROM 'content'),
  count(*) FILTER (WHERE kind = 'content' AND record_key NOT IN (SELECT record_key FROM span_content)),
  (SELECT count(*) FROM feedback WHERE ingest_id = $ingest_id)
FROM spans WHERE ingest_id = $ingest_id"""


def _rows_of_ingest(con: duckdb.DuckDBPyConnection, ingest_id: int) -> tuple[int, int, int]:
    row = con.execute(_ROWS_OF_INGEST, {"ingest_id": ingest_id}).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def _record_ingest(con: duckdb.DuckDBPyConnection, ingest_id: int, labels: list[str],
                   result: IngestResult) -> None:
    con.execute(_RECORD_INGEST, {"ingest_id": ingest_id, "sources": labels,
                                 "records": result.records, "spans_added": result.spans_added})


_RECORD_INGEST = """INSERT INTO ingests BY NAME
SELECT $ingest_id::INTEGER AS ingest_id, now()::TIMESTAMP AS started_at,
       now()::TIMESTAMP AS finished_at, $sources::VARCHAR[] AS sources,
       $records::BIGINT AS records, $spans_added::BIGINT AS spans_added"""

_ADDED = """SELECT count(DISTINCT trace_id), count(*) FILTER (WHERE kind = 'llm'),
       (SELECT sum(tool_calls) FROM ({{affected}}))
FROM spans WHERE ingest_id = $ingest_id"""


def _count_added(con: duckdb.DuckDBPyConnection, ingest_id: int, result: IngestResult) -> None:
    row = con.execute(fill(_ADDED, affected=derive.AFFECTED_SUMMARIES),
                      {"ingest_id": ingest_id}).fetchone()
    if row:
        result.traces, result.llm_calls, result.tool_calls = (int(v or 0) for v in row)
