"""User feedback on traces, as Portkey's feedback API takes it: {trace_id, value, weight, metadata}."""

from __future__ import annotations

from typing import Any

from tracecli.ingest.formats.base import Reader, ReadOptions

COLUMNS = {"id": "VARCHAR", "trace_id": "VARCHAR", "value": "VARCHAR", "weight": "VARCHAR",
           "metadata": "JSON", "created_at": "VARCHAR"}
_CALL_FIELDS = {"request", "response", "span_id", "ai_model", "model", "messages"}


def detect(record: dict[str, Any]) -> bool:
    value = record.get("value")
    return (isinstance(record.get("trace_id"), str) and isinstance(value, int | float)
            and not isinstance(value, bool) and not _CALL_FIELDS & set(record))


def select(options: ReadOptions) -> str:
    return """
SELECT
  'feedback:' || coalesce(id, md5(concat_ws('|', trace_id, value, weight, CAST(metadata AS VARCHAR),
                                          created_at, _row::VARCHAR))) AS record_key,
  trace_id,
  tc_num(value) AS value,
  coalesce(tc_num(weight), 1.0) AS weight,
  tc_clean_map(tc_map(metadata)) AS metadata,
  tc_time(created_at) AS created_at,
  _file AS source_file,
  _row AS source_row
FROM src
WHERE trace_id IS NOT NULL
"""


READER = Reader(
    name="feedback",
    description="User feedback on traces: Portkey feedback records {trace_id, value, weight, metadata}",
    detect=detect,
    columns=COLUMNS,
    select=select,
    table="feedback",
)
