"""What a shell completes from the store (tracecli.cli.completion): trace ids and tag keys
starting with what was typed, a few at most, from the per-trace summaries (one small table)."""

from __future__ import annotations

from typing import Any

import duckdb

_TRACE_IDS = """SELECT trace_id, start_time, status FROM trace_summary
WHERE starts_with(trace_id, $prefix) ORDER BY start_time DESC NULLS LAST, trace_id LIMIT $limit"""

_TAG_KEYS = """SELECT DISTINCT k FROM (SELECT unnest(map_keys(tags)) AS k FROM trace_summary)
WHERE starts_with(k, $prefix) ORDER BY k LIMIT $limit"""


def trace_ids(con: duckdb.DuckDBPyConnection, prefix: str, limit: int) -> list[tuple[Any, ...]]:
    """(trace id, start time, status) of the newest traces whose id starts with `prefix`."""
    return con.execute(_TRACE_IDS, {"prefix": prefix, "limit": limit}).fetchall()


def tag_keys(con: duckdb.DuckDBPyConnection, prefix: str, limit: int) -> list[str]:
    """The tag keys users set on traces, starting with `prefix`, in order."""
    return [r[0] for r in con.execute(_TAG_KEYS, {"prefix": prefix, "limit": limit}).fetchall()]
