"""`ingest --skip-bad`: set aside what cannot be read, before the ingest's transaction begins.

Each input gets one quick check by DuckDB. A file that passes is read as it is; only a file
that fails is scanned line by line in Python, which copies the readable lines to a spool file,
names the first few bad positions, and writes the rejected raw lines to `--rejects` if asked.
A bad line is spooled as a blank one, so that later messages name the file's own line numbers.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import duckdb

from tracecli.errors import BadInput
from tracecli.ingest import inputs as sources
from tracecli.ingest.inputs import READ_ERRORS, Source
from tracecli.ingest.scan import LONG_LINE, largest
from tracecli.sql.template import fill, literal

SHOWN = 5  # positions named in the report


@dataclass
class Skipped:
    records: int = 0  # lines, array elements or Parquet rows set aside
    files: int = 0  # whole files that could not be read at all
    positions: list[str] = field(default_factory=list)  # "file:line: what", the first few
    noted: int = 0
    documents: set[str] = field(default_factory=set)  # spooled JSON documents: a line per element

    def note(self, where: str, what: str) -> None:
        self.noted += 1
        if self.noted <= SHOWN:
            self.positions.append(f"{where}: {what}")

    def note_many(self, wheres: list[str], what: str, count: int) -> None:
        """`count` records set aside for one reason, the first few of them named (`wheres`)."""
        self.note_each([(where, what) for where in wheres], count)

    def note_each(self, found: list[tuple[str, str]], count: int) -> None:
        """`count` records set aside, the first few named, each with its reason (`found`)."""
        for where, what in found:
            self.note(where, what)
        self.noted += count - len(found)
        self.records += count

    def skip_file(self, label: str, exc: BadInput) -> None:
        """A file set aside whole, and why (its message names it already)."""
        self.files += 1
        self.note(label, f"file skipped: {exc.message.removeprefix(label + ': ')}")

    @property
    def problems(self) -> list[str]:
        """The positions noted, and how many more there were."""
        more = [f"… and {self.noted - SHOWN:,} more"] if self.noted > SHOWN else []
        return [*self.positions, *more]


def clean(con: duckdb.DuckDBPyConnection, found: list[Source], spool: str,
          rejects: BinaryIO | None, skipped: Skipped) -> list[Source]:
    """The inputs with their bad parts set aside, noted in `skipped`."""
    kept: list[Source] = []
    for source in found:
        try:
            if source.container == "parquet":
                cleaned = _clean_parquet(source, spool, skipped)
            elif source.container == "json":
                cleaned = _clean_document(con, source, spool, skipped, rejects)
            else:
                cleaned = _clean_lines(con, source, spool, skipped, rejects)
        except BadInput as exc:  # the file as a whole is unreadable: skip it, say why
            skipped.skip_file(source.label, exc)
            continue
        kept.append(cleaned)
    return kept


def set_aside_empty(source: Source, columns: dict[str, str], skipped: Skipped,
                    rejects: BinaryIO | None) -> None:
    """Records with none of the reader's `columns`, which the ingest drops: counted, named, and
    their raw text written to `rejects`. Only for a file that DuckDB found holds some."""
    elements = source.container == "json" or source.path in skipped.documents
    found = _empty_elements(source, columns) if source.container == "json" else (
        (number, raw) for number, what, raw in sources.scan_lines(source, columns)
        if what == sources.NO_FIELDS)
    for number, raw in found:
        skipped.records += 1
        skipped.note(f"{source.label}: element {number}" if elements else f"{source.label}:{number}",
                     sources.NO_FIELDS)
        if rejects is not None:
            rejects.write(raw if raw.endswith(b"\n") else raw + b"\n")


def _empty_elements(source: Source, columns: dict[str, str]) -> Iterator[tuple[int, bytes]]:
    """The (1-based) elements of a JSON document that hold none of `columns`, as JSON text."""
    value = json.loads(b"".join(raw for _, raw in sources.read_lines(source)).lstrip(b"\xef\xbb\xbf"))
    for index, item in enumerate(value if isinstance(value, list) else [value], start=1):
        if isinstance(item, dict) and all(item.get(c) is None for c in columns):
            yield index, json.dumps(item, ensure_ascii=False).encode()


_NOT_OBJECTS = """SELECT count(*) FILTER (WHERE json IS NULL OR json_type(json) <> 'OBJECT')
FROM read_json_objects($path, format = {{format}}, compression = {{compression}},
                       ignore_errors = true, maximum_object_size = {{largest}})"""


def _json_ok(con: duckdb.DuckDBPyConnection, source: Source, fmt: str) -> bool:
    """DuckDB's own quick check: every record is a JSON object (blank lines aside), allowing
    records as large as an ingest's second run does."""
    sql = fill(_NOT_OBJECTS, format=literal(fmt), largest=str(largest(source, LONG_LINE)),
               compression=literal("gzip" if source.gzipped else "none"))
    try:
        row = con.execute(sql, {"path": source.path}).fetchone()
    except READ_ERRORS:
        return False
    return row is not None and row[0] == 0


def _spool_file(spool: str, suffix: str) -> tuple[BinaryIO, str]:
    fd, path = tempfile.mkstemp(prefix="clean-", suffix=suffix, dir=spool)
    return os.fdopen(fd, "wb"), path


def _clean_lines(con: duckdb.DuckDBPyConnection, source: Source, spool: str, skipped: Skipped,
                 rejects: BinaryIO | None) -> Source:
    """The lines that hold records. A line too long to read sets the whole file aside, found
    without reading the line into memory (`refuse_lines_longer_than`)."""
    if _json_ok(con, source, "newline_delimited"):
        return source
    sources.refuse_lines_longer_than(source, LONG_LINE)
    bad = set()
    for number, what, raw in sources.scan_lines(source):
        bad.add(number)
        skipped.note(f"{source.label}:{number}", what)
        skipped.records += 1  # a line that holds no record, or the one a cut stream cut
        if raw:
            if rejects is not None:
                rejects.write(raw if raw.endswith(b"\n") else raw + b"\n")
    out, path = _spool_file(spool, ".jsonl")
    with out:
        for number, raw in sources.read_lines(source):
            out.write(b"\n" if number in bad else raw if raw.endswith(b"\n") else raw + b"\n")
    return Source(path=path, label=source.label, container="jsonl", gzipped=False, size=source.size)


def _clean_document(con: duckdb.DuckDBPyConnection, source: Source, spool: str,
                    skipped: Skipped, rejects: BinaryIO | None) -> Source:
    """A single JSON document (an array of records): keep its object elements."""
    if _json_ok(con, source, "auto"):
        return source
    where = sources.locate_bad_element(source, elements=False)
    if where is not None:
        line, what = where
        raise BadInput(f"{source.label}:{line}: {what}")
    value = json.loads(b"".join(raw for _, raw in sources.read_lines(source)).lstrip(b"\xef\xbb\xbf"))
    items = value if isinstance(value, list) else [value]
    out, path = _spool_file(spool, ".jsonl")
    skipped.documents.add(path)
    with out:
        for index, item in enumerate(items, start=1):
            if isinstance(item, dict):
                out.write(json.dumps(item, ensure_ascii=False).encode() + b"\n")
                continue
            out.write(b"\n")  # line N stays element N
            skipped.records += 1
            kind = "null" if item is None else type(item).__name__
            skipped.note(f"{source.label}: element {index}", f"expected a JSON object, got {kind}")
            if rejects is not None:
                rejects.write(json.dumps(item, ensure_ascii=False).encode() + b"\n")
    return Source(path=path, label=source.label, container="jsonl", gzipped=False, size=source.size)


def _clean_parquet(source: Source, spool: str, skipped: Skipped) -> Source:
    where = sources.locate_bad_row_group(source)
    if where is None:
        return source
    group, what = where
    if group == 0:
        raise BadInput(f"{source.label}: {what}")
    cleaned, dropped = sources.salvage_row_groups(source, spool)
    for group, what in dropped:
        skipped.records += sources.row_group_rows(source, group)
        skipped.note(f"{source.label}: row group {group}", what)
    return cleaned
