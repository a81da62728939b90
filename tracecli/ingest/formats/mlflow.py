"""MLflow traces, as `Trace.to_json()` / `Trace.to_dict()` write them (mlflow/mlflow,
mlflow/entities/trace.py): one trace a JSON Lines record, a JSON document of one trace, or a
JSON array of them.

A trace is `{info, data: {spans}}`. `info` is MLflow 3's TraceInfo (`trace_id` "tr-…",
`request_time`, `state`, `trace_metadata`, `tags`, …) or MLflow 2's (`request_id`,
`timestamp_ms`, `status`, `request_metadata`, `tags`); the trace is found by that id. Spans are
MLflow 3's proto dict (base64 `span_id` / `parent_span_id`, `start_time_unix_nano`,
`status: {code: "STATUS_CODE_…", message}`) or MLflow 2's (`context.span_id` and `parent_id` as
0x-hex, `start_time` in ns, `status_code`, `status_message`); either has `events` (an error's
`exception` event) and `attributes` whose values are JSON-encoded (mlflow/tracing/constant.py):
`mlflow.spanType` (CHAT_MODEL, LLM, EMBEDDING, TOOL, AGENT, CHAIN, RETRIEVER, RERANKER, PARSER, …),
`mlflow.spanInputs` / `mlflow.spanOutputs`, `mlflow.chat.tokenUsage` ({input,output,total}_tokens),
`mlflow.chat.tools`, `mlflow.llm.model`, `mlflow.llm.provider`, `mlflow.llm.cost`
({input,output,total}_cost, USD).

A model call's inputs and outputs are what the autologging flavor saw: an OpenAI request
(mlflow/openai/autolog.py: the call's keyword arguments, also its attributes but for the
messages) and ChatCompletion or Responses object, or LangChain's messages and LLMResult
(mlflow/langchain/langchain_tracer.py); MLflow 2 left the usage in the response. A tool's inputs
are its arguments (a dict for `@mlflow.trace`, LangChain's input string) and its outputs its
result (a LangChain ToolMessage carries the call's id).

Metadata: the tags and trace metadata a user set (keys outside `mlflow.`), MLflow's session and
user (`mlflow.trace.session`, `mlflow.trace.user`) and LangChain's run metadata become tags of
every span. What MLflow itself recorded about the trace (its `mlflow.*` tags and metadata) is kept
with the root span, and the span attributes no column holds with each span, in tracecli's
system keys (tracecli.sql.macros), never as tags.
"""

from __future__ import annotations

from tracecli.ingest.formats.base import CALL_USAGE, Keys, Reader, ReadOptions
from tracecli.sql import macros
from tracecli.sql.template import fill, literal

COLUMNS = {"info": "JSON", "data": "JSON"}

TRACE_KEY = macros.SYSTEM_PREFIX + "mlflow.trace"  # the trace's mlflow.* tags and metadata, as JSON

# Span attributes read into columns (the rest are kept under macros.ATTRIBUTES_KEY), and those
# only repeating them: MLflow 2's copy of a call's conversation, inputs and outputs in one.
ATTRIBUTE_KEYS = {
    "type": "mlflow.spanType", "inputs": "mlflow.spanInputs", "outputs": "mlflow.spanOutputs",
    "usage": "mlflow.chat.tokenUsage", "cost": "mlflow.llm.cost", "tools": "mlflow.chat.tools",
    "model": "mlflow.llm.model", "provider": "mlflow.llm.provider",
    "request_id": "mlflow.traceRequestId",
}
REPEATED_KEYS = ("mlflow.chat.messages",)

_KINDS = {"CHAT_MODEL": "llm", "LLM": "llm", "EMBEDDING": "embedding", "TOOL": "tool",
          "AGENT": "agent", "CHAIN": "chain", "PARSER": "chain", "RETRIEVER": "retriever",
          "RERANKER": "retriever"}


def claims(k: Keys) -> str:
    """A trace: an `info` naming it and `data` holding its spans."""
    return fill("""({{info}} AND {{data}}
      AND coalesce(json_exists({{i}}, '$.trace_id') OR json_exists({{i}}, '$.request_id'), false)
      AND coalesce(json_type({{d}}, '$.spans') = 'ARRAY', false))""",
                info=k.is_a("info", "OBJECT"), data=k.is_a("data", "OBJECT"),
                i=k.json("info"), d=k.json("data"))


def _attr(name: str) -> str:
    """SQL: a span attribute, its JSON encoding undone."""
    return fill("tcx_j(json_extract(attrs, {{path}}))", path=literal(f'$."{ATTRIBUTE_KEYS[name]}"'))


def _user_entries(x: str) -> str:
    """SQL: the entries of the string map `x` that a user set (keys outside `mlflow.`)."""
    return fill("""list_filter(map_entries(coalesce(tc_map({{x}}), MAP {}::MAP(VARCHAR, VARCHAR))),
                   lambda e: NOT starts_with(e.key, 'mlflow.'))""", x=x)


def _system_json(*maps: str) -> str:
    """SQL: the `mlflow.` entries of these string maps as one JSON object (NULL: none)."""
    entries = ", ".join(fill("""list_filter(map_entries(coalesce(tc_map({{m}}), MAP {}::MAP(VARCHAR, VARCHAR))),
                                lambda e: starts_with(e.key, 'mlflow.'))""", m=m) for m in maps)
    return fill("nullif(CAST(to_json(map_from_entries(list_concat({{entries}}))) AS VARCHAR), '{}')",
                entries=entries)


# The attributes no column holds: neither MLflow's keys above nor, as the OpenAI flavor records
# them, the call's own keyword arguments (its inputs).
_OTHER_ATTRIBUTES = fill("""nullif(CAST(to_json(map_from_entries(list_transform(list_filter(
    map_entries(coalesce(TRY_CAST(attrs AS MAP(VARCHAR, JSON)), MAP {}::MAP(VARCHAR, JSON))),
    lambda e: e.key NOT IN ({{read}})
              AND NOT coalesce(json_type(inp) = 'OBJECT' AND list_contains(json_keys(inp), e.key), false)),
    lambda e: {'key': e.key, 'value': tcx_j(e.value)}))) AS VARCHAR), '{}')""",
                         read=", ".join(literal(v) for v in [*ATTRIBUTE_KEYS.values(), *REPEATED_KEYS]))

_METADATA = fill("""tcx_meta(list_concat(
    {{tags}}, {{trace_metadata}},
    list_filter(map_entries(coalesce(tc_map(json_extract(attrs, '$.metadata')), MAP {}::MAP(VARCHAR, VARCHAR))),
                lambda e: NOT (starts_with(e.key, 'ls_') OR starts_with(e.key, 'langgraph_'))),
    [{'key': 'session_id', 'value': json_extract_string(tmd, '$."mlflow.trace.session"')},
     {'key': 'user_id', 'value': json_extract_string(tmd, '$."mlflow.trace.user"')},
     {'key': 'client_request_id', 'value': json_extract_string(info, 'client_request_id')},
     {'key': {{trace_key}}, 'value': CASE WHEN pid IS NULL THEN {{system}} END},
     {'key': {{attributes_key}}, 'value': {{other}}}]))""",
                 tags=_user_entries("ttags"), trace_metadata=_user_entries("tmd"),
                 trace_key=literal(TRACE_KEY), system=_system_json("ttags", "tmd"),
                 attributes_key=literal(macros.ATTRIBUTES_KEY), other=_OTHER_ATTRIBUTES)

_KIND = "CASE typ " + " ".join(fill("WHEN {{t}} THEN {{k}}", t=literal(t), k=literal(k))
                               for t, k in _KINDS.items()) + " ELSE 'other' END"

_SELECT = fill(r"""
WITH t AS (
  SELECT _row, _file, info,
    coalesce(json_extract_string(info, 'trace_id'), json_extract_string(info, 'request_id')) AS info_tid,
    coalesce(json_extract(info, 'trace_metadata'), json_extract(info, 'request_metadata')) AS tmd,
    json_extract(info, 'tags') AS ttags,
    unnest(json_extract(data, '$.spans[*]')) AS s
  FROM src WHERE info IS NOT NULL
), b AS (
  SELECT _row, _file, info, tmd, ttags,
    coalesce(json_extract(s, 'attributes'), '{}'::JSON) AS attrs,
    tcx_id(coalesce(json_extract_string(s, 'span_id'), json_extract_string(s, '$.context.span_id'))) AS sid,
    tcx_id(coalesce(json_extract_string(s, 'parent_span_id'), json_extract_string(s, 'parent_id'))) AS pid,
    json_extract_string(s, 'name') AS nm,
    tc_time(coalesce(json_extract(s, 'start_time_unix_nano'), json_extract(s, 'start_time'))) AS t0,
    tc_time(coalesce(json_extract(s, 'end_time_unix_nano'), json_extract(s, 'end_time'))) AS t1,
    upper(coalesce(json_extract_string(s, '$.status.code'), json_extract_string(s, 'status_code'))) AS st,
    coalesce(nullif(json_extract_string(s, '$.status.message'), ''),
             nullif(json_extract_string(s, 'status_message'), '')) AS smsg,
    list_filter(json_extract(s, '$.events[*]'),
                lambda e: json_extract_string(e, 'name') = 'exception')[1] AS exc,
    info_tid
  FROM t
), a AS (
  SELECT *,
    coalesce(info_tid, tc_text({{request_id}})) AS tid,
    upper(tc_text({{type}})) AS typ,
    {{inputs}} AS inp, {{outputs}} AS outp, {{usage}} AS us, {{cost}} AS lc,
    tcx_j(json_extract(attrs, '$.invocation_params')) AS ip,
    tcx_j(json_extract(attrs, '$.metadata')) AS lmd
  FROM b WHERE sid IS NOT NULL
), m AS (
  SELECT *,
    {{kind}} AS knd,
    coalesce(tc_text({{model}}), json_extract_string(inp, 'model'),
             tc_text(tcx_j(json_extract(attrs, '$.model'))), json_extract_string(ip, 'model'),
             json_extract_string(ip, 'model_name'), json_extract_string(lmd, 'ls_model_name'),
             json_extract_string(outp, 'model'), json_extract_string(outp, '$.llm_output.model_name')) AS mdl,
    CASE WHEN json_type(outp, '$.generations[0]') = 'ARRAY' THEN json_extract(outp, '$.generations[0][0]')
         ELSE json_extract(outp, '$.generations[0]') END AS gen,
    coalesce(tc_tokens(json_extract(us, 'input_tokens')), tc_tokens(json_extract(outp, '$.usage.prompt_tokens')),
             tc_tokens(json_extract(outp, '$.usage.input_tokens')),
             tc_tokens(json_extract(outp, '$.llm_output.token_usage.prompt_tokens'))) AS p_tok,
    coalesce(tc_tokens(json_extract(us, 'output_tokens')), tc_tokens(json_extract(outp, '$.usage.completion_tokens')),
             tc_tokens(json_extract(outp, '$.usage.output_tokens')),
             tc_tokens(json_extract(outp, '$.llm_output.token_usage.completion_tokens'))) AS c_tok,
    coalesce(tc_tokens(json_extract(us, 'total_tokens')), tc_tokens(json_extract(outp, '$.usage.total_tokens')),
             tc_tokens(json_extract(outp, '$.llm_output.token_usage.total_tokens'))) AS t_tok,
    coalesce(tc_tokens(json_extract(us, 'cache_read_input_tokens')),
             tc_tokens(json_extract(outp, '$.usage.prompt_tokens_details.cached_tokens')),
             tc_tokens(json_extract(outp, '$.usage.input_tokens_details.cached_tokens'))) AS cache_tok,
    coalesce(tc_num(json_extract(lc, 'total_cost')),
             tc_num(json_extract(lc, 'input_cost')) + tc_num(json_extract(lc, 'output_cost')),
             tc_num(lc)) AS cost,
    coalesce(st IN ('STATUS_CODE_ERROR', 'ERROR', '2'), false) OR exc IS NOT NULL AS failed,
    tcx_tools({{tools}}) AS tools
  FROM a
), c AS (
  SELECT *,
    -- the OpenAI flavor's inputs: the request body (chat messages, Responses or embeddings
    -- input, a completion's prompt), kept as it was
    coalesce(json_type(inp) = 'OBJECT' AND (json_exists(inp, '$.messages[0].role')
      OR NOT json_exists(inp, '$.messages') AND (json_type(inp, '$.input') IN ('ARRAY', 'VARCHAR')
                                                 OR json_type(inp, '$.prompt') IN ('ARRAY', 'VARCHAR'))), false)
      AS openai_body,
    CASE WHEN json_type(inp) = 'ARRAY' THEN tcx_lc_msgs(inp)
         WHEN json_type(inp, '$.messages') = 'ARRAY' THEN tcx_lc_msgs(json_extract(inp, 'messages'))
         WHEN json_type(inp, '$.prompts') = 'ARRAY' THEN tcx_lc_msgs(json_extract(inp, 'prompts'))
         WHEN json_type(inp) = 'VARCHAR' THEN json_array(json_object('role', 'user', 'content', inp->>'$'))
    END AS in_msgs,
    CASE WHEN json_exists(gen, '$.message') THEN tcx_lc_msg(json_extract(gen, 'message'))
         WHEN gen IS NOT NULL THEN json_object('content', json_extract_string(gen, 'text'))
         WHEN json_type(outp) = 'OBJECT' AND (json_exists(outp, '$.content') OR json_exists(outp, '$.kwargs'))
           THEN tcx_lc_msg(outp)
         WHEN json_type(outp) = 'VARCHAR' THEN json_object('content', outp->>'$')
    END AS out_msg,
    CASE WHEN failed THEN coalesce(smsg,
      concat_ws(': ', json_extract_string(exc, '$.attributes."exception.type"'),
                json_extract_string(exc, '$.attributes."exception.message"')), 'error') END AS err
  FROM m
)
SELECT
  'mlflow:' || tid || ':' || sid AS record_key,
  tid AS trace_id,
  sid AS span_id,
  pid AS parent_span_id,
  coalesce(nm, lower(typ)) AS name,
  knd AS kind,
  t0 AS start_time,
  date_diff('microsecond', t0, t1) / 1000.0 AS duration_ms,
  coalesce(tc_text({{provider}}), json_extract_string(lmd, 'ls_provider')) AS provider,
  CASE WHEN tc_is_call(knd) THEN mdl END AS model,
  CASE WHEN failed THEN 'error' ELSE 'ok' END AS status,
  tc_int32(regexp_extract(err, '^Error code: ([0-9]{3})\b', 1)) AS http_status,
  err AS error,
  {{call_usage}},
  {{span_metadata}} AS metadata,
  CASE WHEN NOT tc_is_call(knd) THEN NULL
       WHEN openai_body THEN tcx_obj(json_merge_patch(tcx_obj(json_object('model', mdl, 'tools', tools)), inp))
       WHEN knd = 'llm' AND in_msgs IS NOT NULL
         THEN tcx_obj(json_object('model', mdl, 'messages', in_msgs, 'tools', tools))
  END AS request,
  CASE WHEN NOT tc_is_call(knd) THEN NULL
       WHEN json_exists(outp, '$.choices') OR json_type(outp, '$.output') = 'ARRAY'
            OR knd = 'embedding' AND json_type(outp, '$.data') = 'ARRAY' THEN outp
       WHEN knd = 'llm' AND out_msg IS NOT NULL THEN tcx_completion(mdl,
         json_merge_patch('{"role": "assistant"}', out_msg),
         json_extract_string(gen, '$.generation_info.finish_reason'), p_tok, c_tok, t_tok)
  END AS response,
  CASE WHEN knd = 'tool' THEN coalesce(json_extract_string(tcx_lc_body(outp), 'tool_call_id'),
         tc_text(tcx_j(json_extract(attrs, '$.tool_call_id'))), json_extract_string(lmd, 'tool_call_id')) END
    AS tool_call_id,
  CASE WHEN knd = 'tool' THEN nm END AS tool_name,
  CASE WHEN knd = 'tool' THEN CASE WHEN json_type(inp) = 'VARCHAR' THEN tcx_loose_json(inp->>'$') ELSE inp END
  END AS tool_arguments,
  CASE WHEN knd = 'tool' THEN CASE
         WHEN json_type(outp) = 'OBJECT' AND json_exists(tcx_lc_body(outp), '$.content')
           THEN tc_content(json_extract(tcx_lc_body(outp), 'content'))
         ELSE tc_text(outp) END END AS tool_result,
  _file AS source_file,
  _row AS source_row
FROM c
""", keep=(), call_usage=CALL_USAGE, span_metadata=_METADATA, kind=_KIND,
    **{name: _attr(name) for name in ATTRIBUTE_KEYS})


def select(options: ReadOptions) -> str:
    return _SELECT


READER = Reader(
    name="mlflow",
    description="MLflow traces (Trace.to_json: JSONL, one JSON trace or an array), MLflow 3 and 2 shapes",
    claims=claims,
    columns=COLUMNS,
    select=select,
)
