"""Message content that arrives apart from its span, joined to it by trace and span id.

OpenTelemetry GenAI instrumentations can put prompts and completions in log records (a second
file) rather than on the span. Readers emit such content as rows of kind `content`; after an
ingest has staged its files, `merge` moves them into the `span_content` table and fills the
request/response of the spans they describe — spans of this ingest and spans stored earlier
(a logs file ingested after its traces). Content whose span has not arrived yet waits in the
table for a later ingest. Spans that gained content are marked with this ingest's id so that
tool calls and summaries are derived again for their traces.
"""

from __future__ import annotations

import duckdb

_MOVE = """
INSERT INTO span_content BY NAME
SELECT record_key, trace_id, span_id, request, response, source_file, source_row, ingest_id
FROM spans s
WHERE ingest_id = $ingest_id AND kind = 'content'
  AND NOT EXISTS (SELECT 1 FROM span_content c WHERE c.record_key = s.record_key)
"""

# Content for a span that lacks messages or choices; the first content row per span wins.
_APPLY = """
UPDATE spans AS s SET
  request = CASE WHEN json_exists(s.request, '$.messages') OR c.request IS NULL THEN s.request
                 ELSE json_merge_patch(coalesce(s.request, '{}'), c.request) END,
  response = CASE WHEN json_exists(s.response, '$.choices') OR c.response IS NULL THEN s.response
                  ELSE json_merge_patch(coalesce(s.response, '{}'), c.response) END,
  ingest_id = $ingest_id
FROM (
  SELECT trace_id, span_id,
         first(request ORDER BY record_key) FILTER (WHERE request IS NOT NULL) AS request,
         first(response ORDER BY record_key) FILTER (WHERE response IS NOT NULL) AS response
  FROM span_content GROUP BY trace_id, span_id
) c
WHERE s.trace_id = c.trace_id AND s.span_id = c.span_id AND s.kind <> 'content'
  AND ((c.request IS NOT NULL AND NOT coalesce(json_exists(s.request, '$.messages'), false))
    OR (c.response IS NOT NULL AND NOT coalesce(json_exists(s.response, '$.choices'), false)))
"""


def merge(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Move this ingest's content rows out of `spans` and apply all stored content."""
    params = {"ingest_id": ingest_id}
    row = con.execute(
        "SELECT count(*) FROM spans WHERE ingest_id = $ingest_id AND kind = 'content'", params
    ).fetchone()
    if row and row[0]:
        con.execute(_MOVE, params)
        con.execute("DELETE FROM spans WHERE ingest_id = $ingest_id AND kind = 'content'", params)
    row = con.execute("SELECT count(*) FROM span_content").fetchone()
    if row and row[0]:
        con.execute(_APPLY, params)
