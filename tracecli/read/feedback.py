"""User feedback as stored: the records (`tracecli feedback list`) and one trace's score."""

from __future__ import annotations

from typing import Any

import duckdb

from tracecli.ingest.formats.feedback import KEY_PREFIX
from tracecli.read.filters import FEEDBACK_SCORES
from tracecli.read.listing import rows_of
from tracecli.sql.template import fill

# The fields `tracecli export` writes of a record (its id: the record key without the prefix).
_RECORDS = fill("""SELECT record_key[{{cut}}:] AS id, trace_id, value, weight, metadata, created_at,
       source_file, source_row
FROM feedback WHERE {{where}}
ORDER BY created_at NULLS LAST, ingest_id, source_file, source_row, id{{limit}}""",
                keep=("where", "limit"), cut=str(len(KEY_PREFIX) + 1))
_COUNT = "SELECT count(*) FROM feedback WHERE {{where}}"


def records(con: duckdb.DuckDBPyConnection, trace_id: str | None,
            limit: int) -> tuple[list[dict[str, Any]], int]:
    """Feedback records, oldest first (all, or one trace's), at most `limit` (0 = all), each as
    `tracecli export` writes it. Returns them and how many there are in all."""
    where, params = ("trace_id = $trace_id", {"trace_id": trace_id}) if trace_id else ("true", {})
    cut = " LIMIT $limit" if limit else ""
    rows = rows_of(con.execute(fill(_RECORDS, where=where, limit=cut),
                               {**params, **({"limit": limit} if limit else {})}))
    if limit and len(rows) == limit:
        counted = con.execute(fill(_COUNT, where=where), params).fetchone()
        return rows, int(counted[0]) if counted else len(rows)
    return rows, len(rows)


def score(con: duckdb.DuckDBPyConnection, trace_id: str) -> tuple[float | None, int]:
    """A trace's feedback score and how many records it has (None and 0 without any)."""
    row = con.execute(fill("SELECT score, n FROM ({{scores}}) WHERE trace_id = $trace_id",
                           scores=FEEDBACK_SCORES), {"trace_id": trace_id}).fetchone()
    return (row[0], int(row[1])) if row else (None, 0)
