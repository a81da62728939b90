"""Tool calls: each call an LLM asked for, joined to its result (carried back in a later
request's tool message, or by the tool span that ran it), in trace order.

They are derived from the bodies of a trace's spans when the trace is shown, not stored: one
trace takes milliseconds, while storing them cost every ingest a second parse of every request
(a fifth of its time) and the store a copy of every argument and result. Ingest keeps each
trace's count (`counts_sql`), which needs no request parsed."""

from __future__ import annotations

from tracecli.sql.template import fill, literal

# Typed views of the chat-completions shapes (the common case), read with one parse per body.
_CHAT_CALLS = '{"choices": [{"message": {"tool_calls": [{"id": "VARCHAR", "function": {"name": "VARCHAR", "arguments": "JSON"}}]}}]}'
_CHAT_MESSAGES = '{"messages": [{"role": "VARCHAR", "tool_call_id": "VARCHAR", "content": "JSON"}]}'

# Tool calls an LLM asked for, in the three body shapes tracecli understands. Each shape is
# parsed only from bodies whose text holds its marker key: a substring test costs a fraction of
# a JSON parse, and most bodies hold no tool call. A search stops at every occurrence of the
# marker's first character, so markers start at a rare one: `_use"` for `tool_use"` (2.4x
# faster than from the `t`), never at the opening quote (4x slower); the parse decides either
# way. Empty or missing lists unnest to no rows: filtering on their length would parse twice.
_ASKED = """
asked_chat AS (
  SELECT s.trace_id, s.span_id AS llm_span_id, s.start_time, s.source_row,
         unnest(calls) AS tc, unnest(range(1, len(calls) + 1)) AS idx
  FROM (SELECT *, json_transform(response, {{chat_calls}}).choices[1].message.tool_calls AS calls
        FROM spans WHERE {{scope}} AND contains(CAST(response AS VARCHAR), 'tool_calls"')) s
), asked_resp AS (
  SELECT s.trace_id, s.span_id AS llm_span_id, s.start_time, s.source_row,
         unnest(items) AS tc, unnest(range(1, len(items) + 1)) AS idx
  FROM (SELECT *, json_extract(response, '$.output[*]') AS items
        FROM spans WHERE {{scope}} AND contains(CAST(response AS VARCHAR), 'function_call"')) s
), asked_anthropic AS (
  SELECT s.trace_id, s.span_id AS llm_span_id, s.start_time, s.source_row,
         unnest(items) AS tc, unnest(range(1, len(items) + 1)) AS idx
  FROM (SELECT *, json_extract(response, '$.content[*]') AS items
        FROM spans WHERE {{scope}} AND contains(CAST(response AS VARCHAR), '_use"')
          AND json_type(response, '$.content') = 'ARRAY') s
), asked AS (
  SELECT trace_id, llm_span_id, start_time, source_row, idx,
         tc.id AS call_id, tc.function.name AS tool_name, tc_json(tc.function.arguments) AS arguments
  FROM asked_chat
  UNION ALL
  SELECT trace_id, llm_span_id, start_time, source_row, idx,
         coalesce(tc->>'call_id', tc->>'id'), tc->>'name', tc_json(tc->'arguments')
  FROM asked_resp WHERE tc->>'type' = 'function_call'
  UNION ALL
  SELECT trace_id, llm_span_id, start_time, source_row, idx,
         tc->>'id', tc->>'name', tc->'input'
  FROM asked_anthropic WHERE tc->>'type' = 'tool_use'
)"""

_ASKED = fill(_ASKED, chat_calls=literal(_CHAT_CALLS), keep=("scope",))

# Tool results carried back in later requests, first occurrence per call id.
_RESULTS = """
chat_messages AS (
  SELECT s.trace_id, s.start_time, s.source_row, unnest(msgs) AS m
  FROM (SELECT *, json_transform(request, {{chat_messages}}).messages AS msgs
        FROM spans WHERE {{scope}} AND contains(CAST(request AS VARCHAR), '_call_id"')) s
), req_items AS (
  SELECT s.trace_id, s.start_time, s.source_row, unnest(items) AS m
  FROM (SELECT *, list_concat(coalesce(json_extract(request, '$.messages[*]'), []),
                              coalesce(json_extract(request, '$.input[*]'), [])) AS items
        FROM spans WHERE {{scope}} AND (contains(CAST(request AS VARCHAR), 'function_call_output"')
          OR contains(CAST(request AS VARCHAR), '_result"'))) s
), anthropic_parts AS (
  SELECT trace_id, start_time, source_row, unnest(json_extract(m, '$.content[*]')) AS part
  FROM req_items WHERE json_type(m, '$.content') = 'ARRAY'
), results AS (
  SELECT trace_id, call_id, first(result ORDER BY start_time, source_row) AS result
  FROM (
    SELECT trace_id, start_time, source_row, m.tool_call_id AS call_id,
           tc_content(m.content) AS result
    FROM chat_messages WHERE m.role = 'tool'
    UNION ALL
    SELECT trace_id, start_time, source_row, m->>'call_id', tc_content(m->'output')
    FROM req_items WHERE m->>'type' = 'function_call_output'
    UNION ALL
    SELECT trace_id, start_time, source_row, part->>'tool_use_id', tc_content(part->'content')
    FROM anthropic_parts WHERE part->>'type' = 'tool_result'
  ) WHERE call_id IS NOT NULL
  GROUP BY trace_id, call_id
)"""

_RESULTS = fill(_RESULTS, chat_messages=literal(_CHAT_MESSAGES), keep=("scope",))

_TOOL_SPANS = """
tool_spans AS (
  SELECT trace_id, span_id, tool_call_id, coalesce(tool_name, name) AS tool_name,
         tool_arguments, tool_result, start_time, source_row
  FROM spans WHERE {{scope}} AND kind = 'tool'
)"""

_JOINED = """
WITH {{asked}}, {{results}}, {{tool_spans}},
-- Tool spans that carry no call id an LLM asked for (LangSmith, Langfuse, some OpenInference
-- instrumentations) meet the asked calls left unmatched by name and order: the k-th unmatched
-- call of a tool is the k-th unmatched span of that tool in the same trace.
unmatched_asked AS (
  SELECT a.trace_id, a.llm_span_id, a.idx,
         row_number() OVER (PARTITION BY a.trace_id, a.tool_name ORDER BY a.start_time, a.source_row, a.llm_span_id, a.idx) AS k,
         a.tool_name
  FROM asked a
  WHERE EXISTS (SELECT 1 FROM tool_spans)  -- most logs have no tool spans: skip the window
    AND NOT EXISTS (SELECT 1 FROM tool_spans t WHERE t.trace_id = a.trace_id AND t.tool_call_id = a.call_id)
), unmatched_spans AS (
  SELECT t.trace_id, t.span_id, t.tool_name,
         row_number() OVER (PARTITION BY t.trace_id, t.tool_name ORDER BY t.start_time, t.source_row, t.span_id) AS k
  FROM tool_spans t
  WHERE NOT EXISTS (SELECT 1 FROM asked a WHERE a.trace_id = t.trace_id AND a.call_id = t.tool_call_id)
), by_order AS (
  SELECT ua.trace_id, ua.llm_span_id, ua.idx, us.span_id
  FROM unmatched_asked ua JOIN unmatched_spans us
    ON us.trace_id = ua.trace_id AND us.tool_name = ua.tool_name AND us.k = ua.k
),
joined AS (
  SELECT a.trace_id, a.llm_span_id, coalesce(t.span_id, o.span_id) AS tool_span_id, a.call_id,
         coalesce(a.tool_name, t.tool_name, o.tool_name) AS tool_name,
         coalesce(a.arguments, t.tool_arguments, o.tool_arguments) AS arguments,
         coalesce(t.tool_result, o.tool_result, r.result) AS result,
         CASE WHEN coalesce(t.tool_result, o.tool_result) IS NOT NULL THEN 'tool_span'
              WHEN r.result IS NOT NULL THEN 'tool_message' END AS result_source,
         a.start_time AS t0, a.source_row AS r0, a.idx
  FROM asked a
  LEFT JOIN results r ON r.trace_id = a.trace_id AND r.call_id = a.call_id
  LEFT JOIN tool_spans t ON t.trace_id = a.trace_id AND t.tool_call_id = a.call_id
  LEFT JOIN by_order bo ON bo.trace_id = a.trace_id AND bo.llm_span_id = a.llm_span_id AND bo.idx = a.idx
  LEFT JOIN tool_spans o ON o.trace_id = bo.trace_id AND o.span_id = bo.span_id
  UNION ALL
  SELECT t.trace_id, NULL, t.span_id, t.tool_call_id, t.tool_name, t.tool_arguments,
         t.tool_result, CASE WHEN t.tool_result IS NOT NULL THEN 'tool_span' END,
         t.start_time, t.source_row, 1
  FROM tool_spans t
  WHERE NOT EXISTS (SELECT 1 FROM asked a WHERE a.trace_id = t.trace_id AND a.call_id = t.tool_call_id)
    AND NOT EXISTS (SELECT 1 FROM by_order bo WHERE bo.trace_id = t.trace_id AND bo.span_id = t.span_id)
)
"""


# Counting needs no result: no request body is parsed.
_NO_RESULTS = "results AS (SELECT NULL::VARCHAR AS trace_id, NULL::VARCHAR AS call_id, NULL::VARCHAR AS result WHERE false)"

# How many calls a response asks for, in the three shapes of `_ASKED`, each read by one plain
# parse: a third of the cost of unnesting them (tests hold the two to the same count).
_ASKED_IN_RESPONSE = """(
  CASE WHEN contains(CAST(response AS VARCHAR), 'tool_calls"')
       THEN coalesce(json_array_length(response, '$.choices[0].message.tool_calls'), 0) ELSE 0 END
  + CASE WHEN contains(CAST(response AS VARCHAR), 'function_call"')
         THEN len(list_filter(json_extract_string(response, '$.output[*].type'),
                              lambda t: t = 'function_call')) ELSE 0 END
  + CASE WHEN contains(CAST(response AS VARCHAR), '_use"') AND json_type(response, '$.content') = 'ARRAY'
         THEN len(list_filter(json_extract_string(response, '$.content[*].type'),
                              lambda t: t = 'tool_use')) ELSE 0 END)"""


def _with(results: str, select: str) -> str:
    return fill(_JOINED + select, asked=_ASKED, results=results, tool_spans=_TOOL_SPANS,
                keep=("scope",))


def counts(tool_spans: bool) -> str:
    """Per trace among the spans `{{scope}}` selects (a hole left for the caller): how many tool
    calls `ROWS` would give. Without tool spans to match to them (`tool_spans` false), that is
    what the responses ask for."""
    if tool_spans:
        return _with(_NO_RESULTS, "SELECT trace_id, count(*) AS n FROM joined GROUP BY trace_id")
    return fill("SELECT trace_id, sum({{asked}}) AS n FROM spans WHERE {{scope}} GROUP BY trace_id",
                asked=_ASKED_IN_RESPONSE, keep=("scope",))


# One trace's tool calls in order, among the spans `{{scope}}` selects.
ROWS = _with(_RESULTS, """
SELECT trace_id, llm_span_id, tool_span_id, call_id, tool_name, arguments, result, result_source,
       row_number() OVER (PARTITION BY trace_id
                          ORDER BY t0, r0, coalesce(llm_span_id, tool_span_id), idx)::INTEGER AS seq
FROM joined ORDER BY seq
""")
