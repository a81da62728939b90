"""Which reader reads each record: the readers' claims, decided in SQL from the record's keys.

A record belongs to the first reader in the registry's order that claims it; a record no reader
claims is bad input. A file's records are labelled by one pass over its claim keys, then each
reader present maps the records labelled its own (`filter`). Nearly every file holds one
format: for those only the first records are labelled, and their reader's mapping checks every
record's label as it reads (`guard`). A record of another format then stops the ingest, which
runs again with that file labelled whole: a file of one format is read once, a mixed one is
read right.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO, Literal

import duckdb

from tracecli.errors import BadInput
from tracecli.ingest import inputs, salvage, scan
from tracecli.ingest.formats import registry
from tracecli.ingest.formats.base import Keys, Reader
from tracecli.ingest.inputs import Batch, Source
from tracecli.sql.template import fill, literal, merge

HEAD = 1000  # records labelled before a file's one reader is trusted with the rest
MIXED = "tracecli: a record of another format"  # the guard's error: the file is labelled whole

# all: every record is the reader's (--format); guard: every record must be (the ingest runs
# again, labelling the file, at one that is not); filter: the reader's records only.
Mode = Literal["all", "guard", "filter"]


@dataclass(frozen=True)
class Route:
    """How a reader takes its records from a file that other readers may share."""

    reader: Reader
    mode: Mode


def claim_keys(reader: Reader) -> dict[str, bool]:
    """The keys the reader's claim reads, each with whether it is read as JSON."""
    keys = Keys(types={})
    reader.claims(keys)
    return keys.used


def keys_of(readers: list[Reader]) -> dict[str, str]:
    """Columns that let these readers' claims be tested: each key, as JSON."""
    return {key: "JSON" for reader in readers for key in claim_keys(reader)}


def label_columns() -> dict[str, str]:
    """The columns the labelling pass reads: every reader's claim keys."""
    return keys_of(registry.READERS)


def columns_for(reader: Reader) -> dict[str, str]:
    """The reader's columns, and the claim keys of it and of the readers tried before it (as
    JSON) that it does not read itself: what its records' labels are computed from."""
    return {**keys_of(_up_to(reader)), **reader.columns}


def _up_to(reader: Reader) -> list[Reader]:
    readers = registry.READERS
    return readers[: readers.index(reader) + 1]


def _claim(reader: Reader, types: dict[str, str]) -> str:
    return fill("coalesce(({{claim}}), false)", claim=reader.claims(Keys(types)))


def label(types: dict[str, str]) -> str:
    """SQL: the name of the reader a record belongs to (NULL: none), over columns of `types`."""
    whens = " ".join(fill("WHEN {{claim}} THEN {{name}}", claim=_claim(r, types),
                          name=literal(r.name)) for r in registry.READERS)
    return fill("CASE {{whens}} END", whens=whens)


def condition(route: Route, types: dict[str, str]) -> str:
    """SQL: the record is the route's reader's, over columns of `types` (`columns_for`).
    A guard fails the statement, naming MIXED, at a record that is not."""
    *before, reader = _up_to(route.reader)
    earlier = " OR ".join(_claim(r, types) for r in before) or "false"
    mine = fill("({{claim}} AND NOT ({{earlier}}))", claim=_claim(reader, types), earlier=earlier)
    if route.mode == "filter":
        return mine
    return fill("(CASE WHEN {{mine}} THEN true ELSE error({{mixed}}) END)", mine=mine,
                mixed=literal(MIXED))


_COUNT = """SELECT _label, count(*) FROM (SELECT {{label}} AS _label FROM ({{relation}}){{limit}})
GROUP BY ALL"""

_UNCLAIMED = """SELECT _n FROM (SELECT row_number() OVER () AS _n, {{label}} AS _label
                FROM ({{relation}})) WHERE _label IS NULL ORDER BY _n LIMIT $shown"""


def count_sql(relation: str, head: int | None) -> str:
    """SQL: how many records of `relation` (over `label_columns`) each reader claims; of its
    first `head` records only, when given."""
    return fill(_COUNT, label=label(label_columns()), relation=relation,
                limit=f" LIMIT {int(head)}" if head else "")


def unclaimed_sql(relation: str) -> str:
    """SQL: the (1-based) numbers of the first `$shown` records no reader claims."""
    return fill(_UNCLAIMED, label=label(label_columns()), relation=relation)


def routes(counts: Counter[str | None], whole: bool) -> list[Route] | None:
    """The readers of a file whose records were labelled `counts` (`whole`: all of them); None
    when the file must be labelled whole first (the first records were not all one reader's)."""
    found = [r for r in registry.READERS if counts.get(r.name)]
    if len(found) == 1 and None not in counts:
        return [Route(found[0], "guard")]
    if not whole:
        return None
    return [Route(r, "filter") for r in found]


def plan_file(con: duckdb.DuckDBPyConnection, source: Source, *, whole: bool, max_line: int,
              skipped: salvage.Skipped | None, rejects: BinaryIO | None) -> list[Route]:
    """The readers of a file's records, by labelling its first records (all of them when
    `whole`). Records no reader claims fail the ingest, naming the first; with --skip-bad
    (`skipped`) they are counted, named and written to `rejects`, and the file is filtered."""
    stored = scan.parquet_columns(con, source) if source.container == "parquet" else {}
    relation = scan.relation(source, label_columns(), stored, numbered=False, where="true",
                             max_line=max_line)
    params = scan.params(source)
    counts = _counts(con, relation, params, None if whole else HEAD)
    found = routes(counts, whole or sum(counts.values()) < HEAD)
    if found is None:
        counts = _counts(con, relation, params, None)
        found = routes(counts, True) or []
    unclaimed = counts.get(None, 0)
    if unclaimed:  # a file of no known format at all is set aside whole by --skip-bad
        _set_aside(con, source, relation, params, unclaimed, skipped if found else None, rejects)
        found = [Route(r.reader, "filter") for r in found]
    return found


def _counts(con: duckdb.DuckDBPyConnection, relation: str, params: dict[str, object],
            head: int | None) -> Counter[str | None]:
    rows = con.execute(count_sql(relation, head), params).fetchall()
    return Counter({name: int(n) for name, n in rows})


def _what(raw: bytes) -> str:
    """Why no reader claims this record: it is none (null, not an object), or of no known shape."""
    found = inputs.what_is_wrong(raw.strip(), None) if raw.strip() else None
    return found or _unknown()


def _unknown() -> str:
    return UNKNOWN.format(tried=", ".join(r.name for r in registry.READERS))


UNKNOWN = "cannot detect the log format (record shape not recognised; tried {tried}); use --format"


def _set_aside(con: duckdb.DuckDBPyConnection, source: Source, relation: str,
               params: dict[str, object], count: int, skipped: salvage.Skipped | None,
               rejects: BinaryIO | None) -> None:
    """Records no reader claims: the first fails the ingest, or with --skip-bad all are set
    aside, the first few named."""
    shown = count if skipped is not None and rejects is not None else salvage.SHOWN
    rows = con.execute(unclaimed_sql(relation), merge(params, {"shown": shown})).fetchall()
    numbers = [int(row[0]) for row in rows]
    where = positions(source, numbers)
    if skipped is None:
        raise BadInput(f"{where[0][0]}: {_what(where[0][1])}")
    skipped.note_each([(place, _what(raw)) for place, raw in where[: salvage.SHOWN]], count)
    if rejects is not None:
        for _, raw in where:
            rejects.write(raw if raw.endswith(b"\n") else raw + b"\n")


def plan_batch(con: duckdb.DuckDBPyConnection, batch: Batch,
               max_line: int) -> dict[str, list[Route]] | None:
    """The small files' reader, by labelling the first file's records: each file's mapping
    then checks every record as it reads (`guard`), and one statement reads them all. None
    when the first file is not one reader's whole: the files are planned one by one."""
    first = batch.sources[0]
    relation = scan.relation(first, label_columns(), {}, numbered=False, where="true",
                             max_line=max_line)
    try:
        counts = _counts(con, relation, scan.params(first), HEAD)
    except duckdb.Error:
        return None
    found = routes(counts, whole=False)
    if not found or len(found) != 1 or found[0].mode != "guard":
        return None
    return {s.path: found for s in batch.sources}


_COUNT_BY_FILE = """SELECT _file, _label, count(*) FROM (
  SELECT _file, {{label}} AS _label FROM ({{relation}})) GROUP BY ALL"""


def label_batch(con: duckdb.DuckDBPyConnection, batch: Batch,
                max_line: int) -> dict[str, list[Route]]:
    """Each small file's readers, by one pass labelling every record of them all, by path
    (`filter`: exact). Files holding a record no reader claims are left out (planned on their
    own, which names it); all are, when DuckDB cannot read one of them."""
    relation = scan.relation(batch, label_columns(), {}, numbered=False, where="true",
                             max_line=max_line)
    sql = fill(_COUNT_BY_FILE, label=label(label_columns()), relation=relation)
    try:
        rows = con.execute(sql, scan.params(batch)).fetchall()
    except duckdb.Error:
        return {}
    counts: dict[str, Counter[str | None]] = {}
    for path, name, n in rows:
        counts.setdefault(path, Counter())[name] = int(n)
    return {s.path: [Route(r, "filter") for r in registry.READERS if found.get(r.name)]
            for s in batch.sources if None not in (found := counts.get(s.path, Counter()))}


def positions(source: Source, numbers: list[int]) -> list[tuple[str, bytes]]:
    """Where the (1-based) records `numbers` are, as messages name them ("file:line", "file:
    element n", "file: row n"), each with its raw text (JSON Lines and JSON documents)."""
    if source.container == "parquet":
        return [(f"{source.label}: row {n}", b"") for n in numbers]
    if source.container == "json":
        return [(f"{source.label}: element {n}", raw)
                for n, raw in inputs.document_elements(source, numbers)]
    return [(f"{source.label}:{line}", raw) for line, raw in inputs.record_lines(source, numbers)]
