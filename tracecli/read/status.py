"""What a store holds, for `tracecli store`: where it is, how big, which schema, how much."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from tracecli.store.connection import MEMORY, store_path
from tracecli.store.schema import schema_version

# Counted by DuckDB in one statement.
_FIGURES = """SELECT
  (SELECT count(*) FROM spans) AS spans,
  (SELECT count(*) FROM trace_summary) AS traces,
  (SELECT count(*) FROM ingests) AS ingests,
  (SELECT min(start_time) FROM spans) AS first_span,
  (SELECT max(start_time) FROM spans) AS last_span,
  (SELECT coalesce(map_from_entries(list({'key': f, 'value': n} ORDER BY f)), MAP {})
   FROM (SELECT coalesce(source_format, '?') AS f, count(*) AS n FROM spans GROUP BY f)) AS formats"""


def status(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """{path, size_bytes, schema_version, spans, traces, ingests, first_span, last_span,
    formats: {source_format: spans}}; an in-memory store has the path ':memory:' and no size."""
    path = store_path(con)
    cursor = con.execute(_FIGURES)
    names = [d[0] for d in cursor.description or []]
    row = cursor.fetchone() or ()
    figures = dict(zip(names, row, strict=True))
    return {"path": path or MEMORY, "size_bytes": _size(path) if path else None,
            "schema_version": schema_version(con), **figures}


def _size(path: str) -> int:
    """The store's bytes on disk, with a write-ahead log still pending."""
    files = (Path(path), Path(path + ".wal"))
    return sum(f.stat().st_size for f in files if f.exists())
