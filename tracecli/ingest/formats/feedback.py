"""User feedback on traces, as Portkey's feedback API takes it: {trace_id, value, weight, metadata}."""

from __future__ import annotations

from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill, literal

# source_file and source_row: a `tracecli export` line keeps pointing at the original source.
COLUMNS = {"id": "VARCHAR", "trace_id": "VARCHAR", "value": "JSON", "weight": "VARCHAR",
           "metadata": "JSON", "created_at": "VARCHAR", "source_file": "VARCHAR",
           "source_row": "VARCHAR"}
KEY_PREFIX = "feedback:"  # of every record key; an export writes the key without it as the id
_CALL_FIELDS = {"request", "response", "span_id", "ai_model", "model", "messages"}


def claims(k: Keys) -> str:
    """A trace id and a number, and nothing of a call."""
    return fill("({{trace}} AND {{number}} AND NOT {{call}})", trace=k.has("trace_id"),
                number=k.is_a("value", "BIGINT", "UBIGINT", "DOUBLE"), call=k.has(*sorted(_CALL_FIELDS)))


_SELECT = fill("""
SELECT
  {{prefix}} || coalesce(id, md5(concat_ws('|', trace_id, value, weight, CAST(metadata AS VARCHAR),
                                          created_at, _row::VARCHAR))) AS record_key,
  trace_id,
  tc_num(value) AS value,
  coalesce(tc_num(weight), 1.0) AS weight,
  tc_clean_map(tc_map(metadata)) AS metadata,
  tc_time(created_at) AS created_at,
  coalesce(source_file, _file) AS source_file,
  coalesce(tc_int(source_row), _row) AS source_row
FROM src
WHERE trace_id IS NOT NULL
""", prefix=literal(KEY_PREFIX))


def select(options: ReadOptions) -> str:
    return _SELECT


READER = Reader(
    name="feedback",
    description="User feedback on traces: Portkey feedback records {trace_id, value, weight, metadata}",
    claims=claims,
    columns=COLUMNS,
    select=select,
    table="feedback",
)
