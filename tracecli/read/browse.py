"""What `tracecli browse` asks of the store: one page of the trace list at a time (newest first,
as `traces` lists them), narrowed by the shared filters and by the text typed in its search box.
A page never reads more of the store than its own traces' spans, so the browser opens as fast
on a big store as on a small one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from tracecli.read.diff import FIRST_USER
from tracecli.read.filters import Filters, Where, trace_where
from tracecli.read.listing import decode_json, rows_of
from tracecli.sql.template import fill, merge

PAGE = 100  # traces a page holds: a screenful or two, fetched again as the list scrolls

# The page's traces, and the first user message of each one's first LLM call, looked up among
# the spans within the page's time range (untimed traces show none: finding theirs would scan
# every span of the store).
_PAGE = """WITH page AS (
  SELECT t.trace_id, t.start_time, t.end_time, t.duration_ms, t.llm_calls, t.tool_calls, t.models,
         t.total_tokens, t.cost_usd, t.status, to_json(t.tags) AS tags
  FROM trace_summary t WHERE {{where}}
  ORDER BY t.start_time DESC NULLS LAST, t.trace_id LIMIT $page_limit OFFSET $page_offset),
firsts AS (
  SELECT trace_id, first(request ORDER BY start_time NULLS LAST, source_file, source_row, span_id)
           FILTER (WHERE kind = 'llm') AS request
  FROM spans
  WHERE trace_id IN (SELECT trace_id FROM page)
    AND start_time BETWEEN (SELECT min(start_time) FROM page) AND (SELECT max(end_time) FROM page)
  GROUP BY trace_id)
SELECT p.* EXCLUDE (end_time), {{first_user}} AS first_message
FROM page p LEFT JOIN firsts f USING (trace_id)
ORDER BY p.start_time DESC NULLS LAST, p.trace_id"""

# Typed text matches a trace's id, a model, a tag (key or value) or a user message it sent.
_SEARCH = """(contains(lower(t.trace_id), $search_text) OR
 contains(lower(array_to_string(t.models, ' ')), $search_text) OR
 contains(lower(CAST(t.tags AS VARCHAR)), $search_text) OR
 t.trace_id IN (SELECT f.trace_id FROM spans f
                WHERE f.kind = 'llm' AND contains(lower({{first_user}}), $search_text)))"""


@dataclass(frozen=True)
class Query:
    """The traces the browser lists: the command's filters and what the search box holds."""

    filters: Filters
    text: str = ""

    def where(self) -> Where:
        w = trace_where(self.filters)
        if self.text.strip():
            w.add(fill(_SEARCH, first_user=FIRST_USER), search_text=self.text.strip().lower())
        return w


def page(con: duckdb.DuckDBPyConnection, query: Query, offset: int,
         size: int = PAGE) -> list[dict[str, Any]]:
    """`size` traces from `offset` on, newest first, each with its first user message."""
    w = query.where()
    sql = fill(_PAGE, where=w.sql(), first_user=FIRST_USER)
    params = merge(w.params, {"page_limit": size, "page_offset": offset})
    return decode_json(rows_of(con.execute(sql, params)), ("tags",))
