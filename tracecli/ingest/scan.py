"""How DuckDB reads a file's records: JSON and JSON Lines by `read_json` over declared
columns, Parquet by `read_parquet` with its columns cast to the declared types."""

from __future__ import annotations

import duckdb

from tracecli.errors import BadInput, first_line
from tracecli.ingest.inputs import Batch, Input, Source
from tracecli.sql.template import fill, ident, literal, struct_literal

# DuckDB's JSON reader allocates buffers of twice the largest object it allows, per thread: a
# large allowance makes every ingest hold gigabytes, and page faults slow it. A JSONL line is
# one call: an ingest reads lines of up to 16 MiB (DuckDB's least), and runs again allowing
# 256 MiB if one is longer (inline images). A JSON array's elements are its records, read as
# lines are; a document that is one object may be as large as its file, up to 1 GiB.
MAX_LINE = 16 << 20
LONG_LINE = 256 << 20
MAX_DOCUMENT = 1 << 30


READ_JSON = """read_json($path, columns = {{columns}}, format = {{format}},
          compression = {{compression}}, maximum_object_size = {{largest}}{{files}})"""


def json_scan(source: Input, columns: dict[str, str], max_line: int) -> str:
    """read_json over declared columns (unknown keys are ignored; no sniffing); a batch's
    records carry their file's path (`filename`)."""
    lines = source.container == "jsonl"
    return fill(READ_JSON, columns=struct_literal(columns),
                format=literal("newline_delimited" if lines else "auto"),
                compression=literal("gzip" if source.gzipped else "none"),
                largest=str(largest(source, max_line)),
                files=", filename = true" if isinstance(source, Batch) else "")


def params(source: Input) -> dict[str, object]:
    """The parameters of a scan: what DuckDB reads, and what messages call it (a batch's
    records name their own files)."""
    if isinstance(source, Batch):
        return {"path": source.path}
    return {"path": source.path, "label": source.label}


def largest(source: Input, max_line: int) -> int:
    """The largest record the scan allows. A document is first read as records of lines' size,
    as an array's elements are; one larger object runs again (`max_line` is then LONG_LINE)
    allowing the file's size. A gzip's expanded size is unknown: it gets LONG_LINE, where an
    allowance of 1 GiB took 3 GB of memory to read a 7 MB gzip of small records."""
    if source.container == "jsonl" or max_line < LONG_LINE or source.gzipped:
        return max_line
    return max(LONG_LINE, min(MAX_DOCUMENT, source.size + 1))


def parquet_columns(con: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    """The Parquet file's columns and their types."""
    try:
        return {
            row[0]: row[1]
            for row in con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($path))",
                {"path": source.path},
            ).fetchall()
        }
    except duckdb.Error as exc:
        raise BadInput(f"{source.label}: not a readable Parquet file: {first_line(exc)}") from exc


def parquet_select(columns: dict[str, str], present: dict[str, str]) -> dict[str, str]:
    """Per declared column, the expression casting the Parquet column to its declared type: JSON
    text columns to JSON, other values declared JSON to their JSON form (to_json)."""
    return {name: parquet_cast(name, ctype, present.get(name))
            for name, ctype in columns.items()}


def parquet_cast(name: str, ctype: str, stored: str | None) -> str:
    """Parquet column `name` of type `stored` (None: absent) as the declared type `ctype`."""
    column = ident(name)
    if stored is None:
        return fill("NULL::{{type}}", type=ctype)
    if ctype == "JSON" and stored in ("VARCHAR", "JSON"):
        # JSON text is taken as JSON (one parse, by the mapping); other text stays a string
        return fill("coalesce(TRY_CAST({{column}} AS JSON), to_json({{column}}))", column=column)
    if ctype == "JSON":  # structs, lists, numbers: their JSON form
        return fill("(CASE WHEN {{column}} IS NULL THEN NULL ELSE to_json({{column}}) END)",
                    column=column)
    return fill("CAST({{column}} AS {{type}})", column=column, type=ctype)


# `check` holds for every record or fails the statement. It is tested below the window that
# numbers the records, where none of the mapping's filters reach: DuckDB pushes a filter down to
# the scan's and orders the tests by cost, so a cheap test of the mapping's (a span id present)
# would otherwise drop a record before the check saw it. `where` is tested above the window.
_JSON_RELATION = """SELECT * FROM (SELECT *{{exclude}}, {{row}} AS _row, {{file}} AS _file
FROM (SELECT * FROM {{scan}} WHERE {{check}})) WHERE {{where}}"""

_PARQUET_RELATION = """SELECT * FROM (SELECT {{columns}}, {{row}} AS _row, $label::VARCHAR AS _file
FROM read_parquet($path, file_row_number = true)) WHERE {{where}}"""


def relation(source: Input, columns: dict[str, str], stored: dict[str, str], *, numbered: bool,
             where: str, max_line: int, check: str = "true") -> str:
    """SQL: the file's records as `columns`, with `_row` (1-based record number, or NULL unless
    `numbered`) and `_file` (`$label`; a batch's: each record's file), those for which `where`
    holds; `check` holds for all or raises, before any filter (`_JSON_RELATION`). `stored`: a
    Parquet file's own columns (`parquet_columns`). Parquet numbers its rows itself, in
    parallel. Records of a batch are read unnumbered."""
    if source.container == "parquet":
        exprs = parquet_select(columns, stored)
        listed = ", ".join(fill("{{expr}} AS {{name}}", expr=expr, name=ident(name))
                           for name, expr in exprs.items())
        return fill(_PARQUET_RELATION, columns=listed, where=f"{check} AND {where}",
                    row="file_row_number + 1" if numbered else "NULL::BIGINT")
    batch = isinstance(source, Batch)
    return fill(_JSON_RELATION, scan=json_scan(source, columns, max_line), where=where, check=check,
                row="row_number() OVER ()" if numbered and not batch else "NULL::BIGINT",
                exclude=" EXCLUDE (filename)" if batch else "",
                file="filename" if batch else "$label::VARCHAR")
