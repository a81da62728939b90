"""Spans carrying OpenTelemetry GenAI or OpenInference attributes, as canonical spans.

Shared by the OTLP JSON reader (both attribute conventions ride on the same envelope) and the
Phoenix span-export reader. Each of those first normalises its records to the relation `n`:

  trace_id, span_id, parent_span_id, name VARCHAR; t0, t1 TIMESTAMP; status_error BOOLEAN;
  status_message, exception VARCHAR; a MAP(VARCHAR, JSON) (attributes by dotted key, values as
  plain JSON); _file, _row

and `span_select` maps `n` to canonical span columns. Conventions read (both spellings where a
name was deprecated): gen_ai.* (semantic-conventions-genai) and openinference.span.kind, llm.*,
tool.*, tool_call.*, input.value / output.value, session.id, user.id, metadata, tag.tags.
"""

from __future__ import annotations

from tracecli.ingest.formats.base import CALL_USAGE
from tracecli.sql.template import fill, literal


def _first(*keys: str) -> str:
    """The first of these attributes present, as text."""
    return _coalesce("tcx_s(a, {{key}})", keys)


def _first_tokens(*keys: str) -> str:
    """The first of these attributes present, as a token count."""
    return _coalesce("tc_tokens(a[{{key}}])", keys)


def _coalesce(read: str, keys: tuple[str, ...]) -> str:
    return fill("coalesce({{reads}})", reads=", ".join(fill(read, key=literal(k)) for k in keys))


KIND = """CASE
  WHEN oik = 'LLM' THEN 'llm' WHEN oik = 'EMBEDDING' THEN 'embedding' WHEN oik = 'TOOL' THEN 'tool'
  WHEN oik = 'AGENT' THEN 'agent' WHEN oik = 'CHAIN' THEN 'chain'
  WHEN oik IN ('RETRIEVER', 'RERANKER') THEN 'retriever' WHEN oik IS NOT NULL THEN 'other'
  WHEN op IN ('chat', 'text_completion', 'generate_content', 'completion', 'responses') THEN 'llm'
  WHEN op IN ('embeddings', 'embedding') THEN 'embedding'
  WHEN op = 'execute_tool' THEN 'tool'
  WHEN op IN ('invoke_agent', 'create_agent') THEN 'agent'
  WHEN tlk IN ('workflow', 'task') THEN 'chain' WHEN tlk = 'agent' THEN 'agent' WHEN tlk = 'tool' THEN 'tool'
  WHEN name LIKE 'chat %' OR name LIKE 'text_completion %' OR name LIKE 'generate_content %' THEN 'llm'
  WHEN name LIKE 'embeddings %' THEN 'embedding'
  WHEN name LIKE 'execute_tool %' THEN 'tool'
  WHEN name LIKE 'invoke_agent %' OR name = 'invoke_agent' THEN 'agent'
  ELSE 'other' END"""


# The attributes each canonical value is read from, in order of preference.
_ATTRIBUTES = dict(
    model=_first('gen_ai.response.model', 'gen_ai.request.model', 'llm.model_name', 'embedding.model_name'),
    prompt_tokens=_first_tokens('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt'),
    completion_tokens=_first_tokens('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion'),
    cached_tokens=_first_tokens('gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens', 'llm.token_count.prompt_details.cache_read'),
    total_tokens=_first_tokens('llm.token_count.total', 'gen_ai.usage.total_tokens'),
    provider=_first('gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system'),
    tool_call_id=_first('gen_ai.tool.call.id', 'tool_call.id'),
    tool_name=_first('gen_ai.tool.name', 'tool.name', 'tool_call.function.name'),
    tool_arguments=_first('gen_ai.tool.call.arguments', 'tool_call.function.arguments'),
    session_id=_first('session.id', 'gen_ai.conversation.id'),
)

_SPAN_SELECT = fill("""
WITH {{normalise}},
c AS (
  SELECT *,
    upper(tcx_s(a, 'openinference.span.kind')) AS oik,
    lower(tcx_s(a, 'gen_ai.operation.name')) AS op,
    lower(tcx_s(a, 'traceloop.span.kind')) AS tlk,
    {{model}} AS mdl,
    tcx_j(a['input.value']) AS in_value_raw,
    tcx_j(a['output.value']) AS out_value_raw
  FROM n
), k AS (
  SELECT *, {{kind}} AS knd FROM c
), msg AS (
  SELECT *,
    CASE WHEN a['gen_ai.input.messages'] IS NOT NULL THEN tcx_genai_msgs(a['gen_ai.input.messages'])
         ELSE tcx_oi_msgs(a, 'llm.input_messages') END AS in_msgs,
    tcx_genai_system(a['gen_ai.system_instructions']) AS sys_text,
    CASE WHEN a['gen_ai.output.messages'] IS NOT NULL THEN tcx_genai_choices(a['gen_ai.output.messages'])
         ELSE tcx_oi_msgs(a, 'llm.output_messages') END AS out_raw,
    coalesce(tcx_tools(a['gen_ai.tool.definitions']), tcx_oi_tools(a)) AS tools,
    {{prompt_tokens}} AS p_tok,
    {{completion_tokens}} AS c_tok,
    {{cached_tokens}} AS cache_tok,
    {{total_tokens}} AS t_tok,
    coalesce(tc_num(a['llm.cost.total']), tc_num(a['llm.cost.prompt']) + tc_num(a['llm.cost.completion'])) AS cost
  FROM k
), body AS (
  SELECT *,
    -- OpenInference output messages come as messages; GenAI ones already as choices
    CASE WHEN a['gen_ai.output.messages'] IS NOT NULL THEN out_raw
         WHEN out_raw IS NOT NULL THEN to_json(list_transform(json_extract(out_raw, '$[*]'),
           lambda x, i: json_object('index', i - 1, 'message', x))) END AS choices,
    CASE WHEN sys_text IS NOT NULL AND in_msgs IS NOT NULL
         THEN to_json(list_concat([json_object('role', 'system', 'content', sys_text)],
                                  json_extract(in_msgs, '$[*]')))
         ELSE in_msgs END AS messages
  FROM msg
)
SELECT
  'otel:' || trace_id || ':' || span_id AS record_key,
  trace_id, span_id,
  nullif(parent_span_id, '') AS parent_span_id,
  name,
  knd AS kind,
  t0 AS start_time,
  date_diff('microsecond', t0, t1) / 1000.0 AS duration_ms,
  {{provider}} AS provider,
  mdl AS model,
  CASE WHEN status_error OR tcx_s(a, 'error.type') IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
  tc_int32(a['http.response.status_code']) AS http_status,
  CASE WHEN status_error OR tcx_s(a, 'error.type') IS NOT NULL
       THEN coalesce(nullif(status_message, ''), exception, tcx_s(a, 'error.type')) END AS error,
  {{call_usage}},
  tcx_meta(list_concat(
    list_filter(map_entries(coalesce(tc_map(a['metadata']), MAP {}::MAP(VARCHAR, VARCHAR))),
                lambda e: NOT starts_with(e.key, 'ls_')),
    [{'key': 'session_id', 'value': {{session_id}}},
     {'key': 'user_id', 'value': tcx_s(a, 'user.id')},
     {'key': 'tags', 'value': tcx_tags(a['tag.tags'])}])) AS metadata,
  CASE WHEN messages IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'messages', messages, 'tools', tools))
       WHEN json_type(in_value_raw) = 'OBJECT' AND json_exists(in_value_raw, '$.messages') THEN in_value_raw
  END AS request,
  CASE WHEN choices IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'choices', choices,
         'usage', CASE WHEN coalesce(p_tok, c_tok) IS NOT NULL THEN tcx_obj(json_object(
           'prompt_tokens', p_tok, 'completion_tokens', c_tok,
           'total_tokens', tc_total_tokens(t_tok, p_tok, c_tok))) END))
       WHEN json_type(out_value_raw) = 'OBJECT' AND json_exists(out_value_raw, '$.choices') THEN out_value_raw
       WHEN knd = 'llm' AND json_type(out_value_raw) = 'VARCHAR'
         THEN tcx_completion(mdl, json_object('role', 'assistant', 'content', out_value_raw->>'$'),
                             NULL, p_tok, c_tok, t_tok)
  END AS response,
  CASE WHEN knd = 'tool' THEN coalesce({{tool_call_id}},
         json_extract_string(out_value_raw, 'tool_call_id')) END AS tool_call_id,
  CASE WHEN knd = 'tool' THEN coalesce({{tool_name}},
         nullif(regexp_replace(name, '^execute_tool ', ''), '')) END AS tool_name,
  CASE WHEN knd = 'tool' THEN coalesce(
         tcx_loose_json({{tool_arguments}}),
         tcx_loose_json(tcx_s(a, 'input.value'))) END AS tool_arguments,
  CASE WHEN knd = 'tool' THEN coalesce(tcx_s(a, 'gen_ai.tool.call.result'),
         CASE WHEN json_type(out_value_raw) = 'OBJECT' AND json_exists(out_value_raw, '$.content')
              THEN tc_content(json_extract(out_value_raw, 'content')) END,
         tcx_s(a, 'output.value')) END AS tool_result,
  _file AS source_file,
  _row AS source_row
FROM body
""", keep=("normalise",), kind=KIND, call_usage=CALL_USAGE, **_ATTRIBUTES)


def span_select(normalise: str) -> str:
    """SQL: `normalise` is `WITH ... n AS (...)`-ready CTE text defining `n` (without WITH)."""
    return fill(_SPAN_SELECT, normalise=normalise)
