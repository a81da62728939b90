"""Everything a store holds that `tracecli ingest` restores, as JSON Lines: user feedback (as
the feedback reader reads it), every span (as `tracecli spans --format jsonl` writes them, which
the `tracecli` reader reads back), and message content still waiting for its span.

DuckDB writes each line itself and the rows stream out in store order, a batch at a time: an
export of any size is never held in memory. Feedback comes first, so that an ingest of the
export sees a mixed file in its first records and labels it record by record at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from tracecli.ingest.formats import feedback
from tracecli.ingest.formats import tracecli_spans as canonical
from tracecli.read.filters import Filters, trace_where
from tracecli.sql.template import fill, ident, literal
from tracecli.store.schema import MONEY_COLUMNS, SPAN_COLUMNS

BATCH = 2048  # lines fetched at a time

# Times as ISO-8601 UTC with a Z, as the listings write them, in milliseconds unless the store
# holds microseconds: a time read back must equal the stored one (ingest finds records stored
# already by key and time).
_TIME = """CASE WHEN microsecond({{v}}) % 1000 = 0 THEN strftime({{v}}, '%Y-%m-%dT%H:%M:%S.%gZ')
     ELSE strftime({{v}}, '%Y-%m-%dT%H:%M:%S.%fZ') END"""
# JSON has no NaN or infinity (a store written before ingest made them unknown): null.
_NUMBER = "CASE WHEN isfinite({{v}}) THEN {{v}} END"
# A feedback value the store holds as unknown (it was NaN, infinite or out of range) is written
# as a number out of range: the feedback reader claims it and stores it as unknown again, so the
# record still counts (and weighs) in its trace's feedback, as it did.
_FEEDBACK_VALUE = "CASE WHEN isfinite(value) THEN to_json(value) ELSE '1e400'::JSON END"
_BY_TYPE = {"TIMESTAMP": _TIME, "DOUBLE": _NUMBER}
# Money at 10 significant digits, as every output writes it (the macro tc_money).
_MONEY = "CASE WHEN isfinite({{v}}) THEN tc_money({{v}}) END"


def _value(column: str, sql_type: str) -> str:
    """A column as the export writes it, by its type in the store (money rounded)."""
    template = _MONEY if column in MONEY_COLUMNS else _BY_TYPE.get(sql_type.split()[0], "{{v}}")
    return fill(template + " AS {{name}}", v=ident(column), name=ident(column))


_LINES = "SELECT to_json(e) FROM (SELECT {{fields}} FROM {{table}} WHERE {{scope}}) e"

# A span as both `tracecli export` and `tracecli spans --format jsonl` write it.
SPAN_FIELDS = ", ".join(_value(c, SPAN_COLUMNS[c]) for c in canonical.EXPORTED)

# The record's id is its record key without the feedback reader's prefix: read again, it makes
# the same key.
_FEEDBACK_FIELDS = fill(
    """record_key[{{cut}}:] AS id, trace_id, {{value}} AS value, {{weight}}, metadata, {{created_at}},
  source_file, source_row""",
    cut=str(len(feedback.KEY_PREFIX) + 1), value=_FEEDBACK_VALUE,
    weight=_value("weight", "DOUBLE"), created_at=_value("created_at", "TIMESTAMP"))

# Content rows, as the readers of detached content emit them (tracecli.ingest.detached_content):
# an ingest moves them to span_content again. The table keeps no source format: these rows are
# the export's own.
_CONTENT_FIELDS = fill(
    """record_key, trace_id, span_id, 'content' AS kind, request, response, source_file, source_row,
  {{format}} AS source_format""", format=literal(canonical.READER.name))


@dataclass(frozen=True)
class Part:
    """One kind of record the export writes: its name, table and fields."""

    name: str
    table: str
    fields: str


PARTS = (Part("feedback", "feedback", _FEEDBACK_FIELDS), Part("spans", "spans", SPAN_FIELDS),
         Part("content", "span_content", _CONTENT_FIELDS))


@dataclass(frozen=True)
class Chunk:
    """A run of whole lines of one part (each line ends in a newline)."""

    part: str
    text: str
    lines: int


def scope(f: Filters, trace_id: str | None) -> tuple[str, dict[str, Any]]:
    """Which records to export, as a condition over any table with a trace_id: the traces the
    filters pick (whole, as `tracecli traces` picks them), or everything when none is given."""
    w = trace_where(f)
    if trace_id:
        w.add("t.trace_id = $trace_id", trace_id=trace_id)
    if not w.clauses:
        return "true", {}
    return fill("trace_id IN (SELECT t.trace_id FROM trace_summary t WHERE {{where}})",
                where=w.sql()), w.params


def export_chunks(con: duckdb.DuckDBPyConnection, f: Filters, trace_id: str | None,
                  batch: int = BATCH) -> Iterator[Chunk]:
    """The export, a batch of lines at a time: feedback, spans, then detached content."""
    where, params = scope(f, trace_id)
    for part in PARTS:
        cursor = con.execute(fill(_LINES, fields=part.fields, table=ident(part.table), scope=where),
                             params)
        while rows := cursor.fetchmany(batch):
            yield Chunk(part.name, "".join(row[0] + "\n" for row in rows), len(rows))

