"""OpenAI Agents SDK traces (openai/openai-agents-python, src/agents/tracing/).

The SDK's BackendSpanExporter POSTs `{"data": [item.export(), ...]}` to /v1/traces/ingest; a
file holds such bodies (one per line, or one JSON document), or the items one per line. An
item is a trace (`Trace.export()`: {object: "trace", id, workflow_name, group_id, metadata}) or
a span (`Span.export()`: {object: "trace.span", id, trace_id, parent_id, started_at, ended_at,
span_data: {type, ...}, error: {message, data} | null, metadata}). The trace is no span: its
name, group (the conversation: tracecli's `session_id`) and metadata are joined to its spans
from the same file. There may be no root span: agent (older SDKs) or task spans have no parent.

span_data (span_data.py): `generation` (input/output chat messages, or a Responses API object
as output when streamed; model, model_config, usage {input_tokens, output_tokens, ...} or, as
sent to OpenAI, {input_tokens, output_tokens, details}) and `response` (response_id and usage;
the Response itself, and its input, when a processor keeps them) are LLM calls, priced by model:
the SDK logs no cost. `function` is a tool call (name, input: the arguments' JSON text, output;
no call id, so it meets the call that asked for it by name and order). `agent` spans are agents;
`custom` spans the runner writes for a task or a turn (data.sdk_span_type) are chains; handoff,
guardrail, custom, mcp_tools, transcription, speech and speech_group spans are other steps.
"""

from __future__ import annotations

from tracecli.ingest.formats.base import CALL_USAGE, Keys, Reader, ReadOptions
from tracecli.sql.template import fill, ident, literal

# Item fields, read as text and as JSON; `data` is a POST body's list of items.
_TEXT = ["object", "id", "trace_id", "parent_id", "started_at", "ended_at", "workflow_name",
         "group_id"]
_JSON = ["span_data", "error", "metadata"]
COLUMNS = {**{c: "VARCHAR" for c in _TEXT}, **{c: "JSON" for c in [*_JSON, "data"]}}

OBJECTS = {"trace", "trace.span"}


def claims(k: Keys) -> str:
    """A trace or span item, or an exporter's POST body whose first item is one."""
    item = fill("({{object}} AND {{id}})", object=k.one_of("object", OBJECTS), id=k.has("id"))
    body = fill("({{list}} AND coalesce(json_extract_string({{data}}, '$[0].object') IN ({{objects}}), false))",
                list=k.is_a("data", "ARRAY"), data=k.json("data"),
                objects=", ".join(literal(o) for o in sorted(OBJECTS)))
    return fill("({{item}} OR {{body}})", item=item, body=body)


# A POST body's items, as the columns a record that is one item has.
_BODY_ITEM = ", ".join(
    [fill("j->>{{key}} AS {{column}}", key=literal(c), column=ident(c)) for c in _TEXT]
    + [fill("j->{{key}} AS {{column}}", key=literal(c), column=ident(c)) for c in _JSON])
_ITEM = ", ".join(ident(c) for c in [*_TEXT, *_JSON])

_SELECT = fill(r"""
WITH items AS (
  SELECT _row, _file, {{item}} FROM src WHERE object IS NOT NULL
  UNION ALL
  SELECT _row, _file, {{body_item}}
  FROM (SELECT _row, _file, unnest(json_extract(data, '$[*]')) AS j
        FROM src WHERE object IS NULL AND json_type(data) = 'ARRAY')
), traces AS (
  SELECT id AS trace_id, first(workflow_name) AS wf, first(group_id) AS gid, first(metadata) AS tmd
  FROM items WHERE object = 'trace' AND id IS NOT NULL
  GROUP BY id
), s AS (
  SELECT i._row, i._file, i.id AS sid, i.trace_id AS tid, nullif(i.parent_id, '') AS pid,
    i.span_data AS d, i.span_data->>'type' AS typ, i.span_data->'data' AS cd,
    CASE WHEN coalesce(json_type(i.error), 'NULL') <> 'NULL' THEN i.error END AS err,
    i.metadata AS smd, t.wf, t.gid, t.tmd,
    tc_time(i.started_at) AS t0, tc_time(i.ended_at) AS t1,
    coalesce(i.span_data->>'model', i.span_data->'response'->>'model') AS mdl,
    coalesce(i.span_data->'usage', i.span_data->'response'->'usage') AS u,
    json_extract(i.span_data, '$.output[0]') AS out0
  FROM items i LEFT JOIN traces t ON t.trace_id = i.trace_id
  WHERE i.object = 'trace.span' AND i.id IS NOT NULL AND i.trace_id IS NOT NULL
), m AS (
  SELECT *,
    CASE typ WHEN 'generation' THEN 'llm' WHEN 'response' THEN 'llm' WHEN 'function' THEN 'tool'
             WHEN 'agent' THEN 'agent'
             WHEN 'custom' THEN CASE WHEN (cd->>'sdk_span_type') IN ('task', 'turn') THEN 'chain' ELSE 'other' END
             ELSE 'other' END AS knd,
    coalesce(tc_tokens(u->'input_tokens'), tc_tokens(u->'prompt_tokens')) AS p_tok,
    coalesce(tc_tokens(u->'output_tokens'), tc_tokens(u->'completion_tokens')) AS c_tok,
    coalesce(tc_tokens(u->'total_tokens'), tc_tokens(u->'details'->'total_tokens')) AS t_tok,
    coalesce(tc_tokens(u->'input_tokens_details'->'cached_tokens'),
             tc_tokens(u->'details'->'input_tokens_details'->'cached_tokens'),
             tc_tokens(u->'prompt_tokens_details'->'cached_tokens')) AS cache_tok,
    NULL::DOUBLE AS cost,
    -- a streamed generation's output is the Responses API object the stream built
    coalesce((out0->>'object') = 'response' OR json_type(out0, '$.output') = 'ARRAY', false) AS out_body,
    CASE WHEN json_type(d, '$.input') = 'VARCHAR'
           THEN json_array(json_object('role', 'user', 'content', d->>'input'))
         WHEN json_type(d, '$.input[0]') = 'OBJECT' AND json_exists(d, '$.input[0].role') THEN d->'input'
         ELSE tcx_lc_msgs(d->'input') END AS in_msgs
  FROM s
)
SELECT
  'openai-agents:' || tid || ':' || sid AS record_key,
  tid AS trace_id,
  sid AS span_id,
  pid AS parent_span_id,
  CASE typ
    WHEN 'generation' THEN 'chat' || coalesce(' ' || mdl, '')
    WHEN 'handoff' THEN 'handoff ' || coalesce(d->>'from_agent', '?') || ' → ' || coalesce(d->>'to_agent', '?')
    WHEN 'guardrail' THEN 'guardrail ' || coalesce(d->>'name', '?')
                          || CASE WHEN tc_bool(d->'triggered') THEN ' (triggered)' ELSE '' END
    WHEN 'custom' THEN CASE cd->>'sdk_span_type' WHEN 'task' THEN coalesce(cd->>'name', d->>'name')
                                                 WHEN 'turn' THEN 'turn' || coalesce(' ' || (cd->>'turn'), '')
                                                 ELSE d->>'name' END
    WHEN 'mcp_tools' THEN 'mcp_tools' || coalesce(' ' || (d->>'server'), '')
    WHEN 'transcription' THEN 'transcription' || coalesce(' ' || mdl, '')
    WHEN 'speech' THEN 'speech' || coalesce(' ' || mdl, '')
    ELSE coalesce(d->>'name', typ) END AS name,
  knd AS kind,
  t0 AS start_time,
  date_diff('microsecond', t0, t1) / 1000.0 AS duration_ms,
  CASE WHEN tc_is_call(knd) THEN coalesce(d->'model_config'->>'provider',
    CASE WHEN contains(d->'model_config'->>'base_url', 'api.openai.com') THEN 'openai' END) END AS provider,
  CASE WHEN tc_is_call(knd) THEN mdl END AS model,
  CASE WHEN err IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
  CASE WHEN json_type(err) = 'VARCHAR' THEN err->>'$'
       WHEN err IS NOT NULL THEN concat_ws(': ', coalesce(err->>'message', 'error'),
                                           tc_text(err->'data'->'error')) END AS error,
  {{call_usage}},
  tcx_meta(list_concat(
    map_entries(coalesce(tc_map(smd), MAP {}::MAP(VARCHAR, VARCHAR))),
    map_entries(coalesce(tc_map(tmd), MAP {}::MAP(VARCHAR, VARCHAR))),
    [{'key': 'session_id', 'value': gid}, {'key': 'workflow_name', 'value': wf}])) AS metadata,
  CASE WHEN typ = 'generation' AND in_msgs IS NOT NULL
         THEN tcx_obj(json_object('model', mdl, 'messages', in_msgs))
       WHEN typ = 'response' AND coalesce(json_type(d, '$.input') <> 'NULL', false)
         THEN tcx_obj(json_object('model', mdl, 'instructions', d->'response'->'instructions',
                                  'input', d->'input', 'tools', d->'response'->'tools')) END AS request,
  CASE WHEN typ = 'generation' AND out_body THEN out0
       WHEN typ = 'generation' AND json_type(out0) = 'OBJECT'
         THEN tcx_completion(mdl, tcx_lc_msg(tcx_obj(out0)), NULL, p_tok, c_tok, t_tok)
       WHEN typ = 'response' AND json_type(d, '$.response') = 'OBJECT' THEN d->'response' END AS response,
  CASE WHEN knd = 'tool' THEN d->>'name' END AS tool_name,
  CASE WHEN knd = 'tool' THEN CASE WHEN json_type(d, '$.input') = 'VARCHAR'
                                     THEN tcx_loose_json(nullif(d->>'input', ''))
                                   WHEN json_type(d, '$.input') <> 'NULL' THEN d->'input' END END AS tool_arguments,
  CASE WHEN knd = 'tool' AND json_type(d, '$.output') <> 'NULL' THEN tc_text(d->'output') END AS tool_result,
  _file AS source_file,
  _row AS source_row
FROM m
""", item=_ITEM, body_item=_BODY_ITEM, call_usage=CALL_USAGE)


def select(options: ReadOptions) -> str:
    return _SELECT


READER = Reader(
    name="openai-agents",
    description="OpenAI Agents SDK traces: the exporter's {data: [...]} bodies, or trace and "
                "span items (JSONL)",
    claims=claims,
    columns=COLUMNS,
    select=select,
)
