"""User feedback given from the command line (`tracecli feedback add`), under Portkey's feedback
API rules, stored as an ingest of one Portkey feedback record: the same reader, secret masking,
record key, transaction and store lock as feedback read from a log."""

from __future__ import annotations

import json
import math
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.ingest.formats import feedback
from tracecli.ingest.pipeline import IngestResult, ingest

# Portkey's feedback API: value an integer from -10 to 10, weight a number from 0 to 1 (1 unless given).
VALUE_RULE = "an integer from -10 to 10"
WEIGHT_RULE = "a number from 0 to 1"
SOURCE = "tracecli feedback add"  # the records' source_file: where they came from


def parse_value(text: str) -> int:
    """--value as Portkey takes it; anything else is a usage error naming the rule."""
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not -10 <= value <= 10:
        raise TraceCliError(f"--value {text}: the feedback value is {VALUE_RULE}", ExitCode.USAGE)
    return value


def parse_weight(text: str) -> float:
    """--weight as Portkey takes it (NaN and infinity are no weight)."""
    try:
        weight = float(text)
    except ValueError:
        weight = math.nan
    if not 0 <= weight <= 1:
        raise TraceCliError(f"--weight {text}: the feedback weight is {WEIGHT_RULE}", ExitCode.USAGE)
    return weight


def add(con: duckdb.DuckDBPyConnection, trace_id: str, value: int, weight: float,
        metadata: dict[str, str], now: datetime | None = None) -> IngestResult:
    """Store one feedback record on `trace_id`, all or nothing. Each call is a new record (a
    vote of its own), with an id of its own that `tracecli export` keeps."""
    record = {"id": uuid.uuid4().hex, "trace_id": trace_id, "value": value, "weight": weight,
              "metadata": metadata,
              "created_at": (now or datetime.now(UTC)).isoformat(timespec="microseconds"),
              "source_file": SOURCE}
    with tempfile.TemporaryDirectory(prefix="tracecli-") as spool:
        path = Path(spool) / "feedback.jsonl"
        path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        return ingest(con, [str(path)], format_name=feedback.READER.name)
