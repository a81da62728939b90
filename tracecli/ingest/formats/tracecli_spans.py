"""tracecli's own span JSONL, as `tracecli spans --format jsonl` writes it: a lossless round trip."""

from __future__ import annotations

from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill
from tracecli.store.schema import SPAN_COLUMNS

# Columns an export carries; the store-local ones are assigned again at ingest.
EXPORTED = [c for c in SPAN_COLUMNS if c not in ("ingest_id",)]
_JSON_COLUMNS = {"metadata", "request", "response", "tool_arguments"}
COLUMNS = {c: ("JSON" if c in _JSON_COLUMNS else "VARCHAR") for c in EXPORTED}
_NUMERIC = {"duration_ms": "tc_num", "cost_usd": "tc_num", "http_status": "tc_int32",
            "prompt_tokens": "tc_tokens", "completion_tokens": "tc_tokens", "cached_tokens": "tc_tokens",
            "total_tokens": "tc_tokens", "retries": "tc_int32", "source_row": "tc_int"}


def claims(k: Keys) -> str:
    """The columns only an export of tracecli's own carries, with the ids every span has."""
    return " AND ".join(k.has(c) for c in ("record_key", "trace_id", "span_id", "source_format"))


def _expr(column: str) -> str:
    if column in _NUMERIC:
        return fill("{{cast}}({{column}}) AS {{column}}", cast=_NUMERIC[column], column=column)
    if column == "start_time":
        return "tc_time(start_time) AS start_time"
    if column == "metadata":
        return "tc_clean_map(tc_map(metadata)) AS metadata"
    if column in _JSON_COLUMNS:
        return fill("tc_json({{column}}) AS {{column}}", column=column)
    if column == "source_format":  # read with --format tracecli from lines that lack it
        return "coalesce(source_format, 'tracecli') AS source_format"
    return column


# provenance keeps pointing at the original source when the export carries it
_SELECT = fill("""
SELECT
  {{exprs}},
  coalesce(source_file, _file) AS source_file,
  coalesce(tc_int(source_row), _row) AS source_row
FROM src
""", exprs=",\n  ".join(_expr(c) for c in EXPORTED if c not in ("source_file", "source_row")))


def select(options: ReadOptions) -> str:
    return _SELECT


READER = Reader(
    name="tracecli",
    description="tracecli's own canonical span JSONL (`tracecli export`, `tracecli spans --format jsonl`)",
    claims=claims,
    columns=COLUMNS,
    select=select,
    row_per_record=True,
    carries_source_format=True,
)
