"""Langfuse: single-trace downloads and observation exports.

A download is one JSON document, `{trace: {...}, observations: [...]}` or the API's trace with
its `observations` inside. An export is observation records (JSONL or a JSON array), in the
API's camelCase or the blob export's snake_case. Observations nest by `parentObservationId`;
`type` is GENERATION, SPAN, EVENT, AGENT, TOOL, CHAIN, RETRIEVER, EVALUATOR, EMBEDDING or
GUARDRAIL. Usage is `usageDetails` (or legacy `usage` / `promptTokens`...), cost `costDetails`
(or `calculatedTotalCost`). Generation input/output are chat messages in OpenAI or LangChain form.

Metadata: Langfuse's OpenTelemetry ingestion (langfuse/langfuse, packages/shared/src/server/otel/
OtelIngestionProcessor.ts) nests what the instrumentation recorded under `attributes` (the
span's attributes; older servers kept all of them, newer ones leave out those read as input and
output), `resourceAttributes` and `scope` ({name, version, attributes}; `scopeAttributes` on
its events path), beside the metadata the user set (`langfuse.trace.metadata.*`,
`langfuse.observation.metadata.*`, the SDKs' `metadata=`). The user's keys become tags; the
nested ones are kept under tracecli's `otel.*` keys (tracecli.sql.macros), never as tags. The
tags a user set that Langfuse leaves inside `attributes` (OpenInference `metadata`, `tag.tags`,
`session.id`, `user.id`; Traceloop `traceloop.association.properties.*`) are read from there
too. The trace's copy of its root span's nested keys is left out: the root observation has them.
"""

from __future__ import annotations

from tracecli.ingest.formats.base import CALL_USAGE, Keys, Reader, ReadOptions
from tracecli.sql import macros
from tracecli.sql.template import fill, ident, literal

# Observation fields the mapping reads, as (camelCase, snake_case): as text, and as JSON.
_TEXT_FIELDS = [("id", "id"), ("traceId", "trace_id"), ("type", "type"), ("name", "name"),
                ("parentObservationId", "parent_observation_id"), ("model", "provided_model_name"),
                ("level", "level"), ("statusMessage", "status_message")]
_JSON_FIELDS = [("startTime", "start_time"), ("endTime", "end_time"),
                ("modelParameters", "model_parameters"), ("input", "input"), ("output", "output"),
                ("metadata", "metadata"), ("usageDetails", "usage_details"),
                ("costDetails", "cost_details"), ("usage", "usage"),
                ("promptTokens", "prompt_tokens"), ("completionTokens", "completion_tokens"),
                ("totalTokens", "total_tokens"), ("calculatedTotalCost", "total_cost"),
                ("totalCost", "calculated_total_cost")]
_FIELDS = [*_TEXT_FIELDS, *_JSON_FIELDS, ("completionStartTime", "completion_start_time")]
_OBS_COLUMNS = sorted({name for pair in _FIELDS for name in pair})
COLUMNS = {"trace": "JSON", "observations": "JSON", "timestamp": "JSON", "sessionId": "JSON",
           "userId": "JSON", "tags": "JSON", **{c: "JSON" for c in _OBS_COLUMNS}}

TYPES = {"GENERATION", "SPAN", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR",
         "EMBEDDING", "GUARDRAIL"}


def claims(k: Keys) -> str:
    """A download (a trace with its observations), or an observation of a known type."""
    download = fill("({{list}} AND ({{trace}} OR {{when}}))", list=k.is_a("observations", "ARRAY"),
                    trace=k.is_a("trace", "OBJECT"), when=k.has("timestamp"))
    observation = fill("({{type}} AND {{trace}} AND {{when}})", type=k.one_of("type", TYPES),
                       trace=k.has("traceId", "trace_id"), when=k.has("startTime", "start_time"))
    return fill("({{download}} OR {{observation}})", download=download, observation=observation)


# Metadata keys under which Langfuse nests what the instrumentation recorded, and tracecli's names.
_ENVELOPE = {"resourceAttributes": macros.RESOURCE_KEY, "scope": macros.SCOPE_KEY,
             "scopeAttributes": macros.SCOPE_ATTRIBUTES_KEY, "attributes": macros.ATTRIBUTES_KEY}
_ASSOCIATION = "traceloop.association.properties."
_NO_TAGS = "MAP {}::MAP(VARCHAR, VARCHAR)"


def _user_metadata(md: str, skip: str) -> str:
    """SQL: the entries of the metadata object `md` that the user set, but those `skip` (a
    condition on `e.key`) names."""
    return fill("""list_filter(map_entries(coalesce(tc_map({{md}}), {{none}})),
                lambda e: NOT (e.key IN ({{envelope}}) OR {{skip}}))""", md=md, none=_NO_TAGS,
                envelope=", ".join(map(literal, _ENVELOPE)), skip=skip)


def _attribute_tags(a: str) -> str:
    """SQL: the tags OpenTelemetry instrumentations set among the span attributes `a` (a map of
    their values as text): OpenInference's `metadata` (a JSON object), `tag.tags`, `session.id`
    and `user.id`, and Traceloop's association properties."""
    return fill("""list_concat(
    list_filter(map_entries(coalesce(tc_map(TRY_CAST({{a}}['metadata'] AS JSON)), {{none}})),
                lambda e: NOT starts_with(e.key, 'ls_')),
    list_transform(list_filter(map_entries(coalesce({{a}}, {{none}})),
                               lambda e: starts_with(e.key, {{association}}) AND length(e.key) >= {{cut}}),
                   lambda e: {'key': e.key[{{cut}}:], 'value': e.value}),
    [{'key': 'session_id', 'value': {{a}}['session.id']},
     {'key': 'user_id', 'value': {{a}}['user.id']},
     {'key': 'tags', 'value': tcx_tags(to_json({{a}}['tag.tags']))}])""",
                a=a, none=_NO_TAGS, association=literal(_ASSOCIATION),
                cut=str(len(_ASSOCIATION) + 1))


def _nested(md: str) -> str:
    """SQL: the keys Langfuse nested in the metadata object `md`, under tracecli's names."""
    return "[" + ", ".join(
        fill("{'key': {{ours}}, 'value': nullif(CAST(json_extract({{md}}, {{path}}) AS VARCHAR), 'null')}",
             ours=literal(ours), md=md, path=literal(f'$."{theirs}"'))
        for theirs, ours in _ENVELOPE.items()) + "]"


# A span's metadata: the observation's own tags, the trace's, those among its span attributes,
# then what the instrumentation recorded (a key given twice keeps its first value).
_METADATA = fill("""tcx_meta(list_concat(
    {{observation}},
    {{trace}},
    [{'key': 'session_id', 'value': json_extract_string(tr, 'sessionId')},
     {'key': 'user_id', 'value': json_extract_string(tr, 'userId')},
     {'key': 'tags', 'value': tcx_tags(json_extract(tr, 'tags'))}],
    {{attribute_tags}},
    {{nested}}))""",
    observation=_user_metadata("md", "starts_with(e.key, 'ls_') OR starts_with(e.key, 'langgraph_') "
                                     "OR e.key = 'tool_call_id'"),
    trace=_user_metadata("json_extract(tr, 'metadata')", "starts_with(e.key, 'ls_')"),
    attribute_tags=_attribute_tags("attrs"),
    nested=_nested("md"))


def _get(camel: str, snake: str) -> str:
    return fill("coalesce(json_extract(o, {{camel}}), json_extract(o, {{snake}}))",
                camel=literal(camel), snake=literal(snake))


def _s(camel: str, snake: str) -> str:
    return fill("coalesce(json_extract_string(o, {{camel}}), json_extract_string(o, {{snake}}))",
                camel=literal(camel), snake=literal(snake))


# A record that is one observation, as the object an observation is inside a trace download.
_ROW_OBJECT = fill("tcx_obj(json_object({{entries}}))", entries=", ".join(
    fill("{{key}}, {{column}}", key=literal(c), column=ident(c)) for c in _OBS_COLUMNS))

# Each observation field the mapping reads (in either spelling), as the hole of its camelCase name.
_READS = {**{camel: _s(camel, snake) for camel, snake in _TEXT_FIELDS},
          **{camel: _get(camel, snake) for camel, snake in _JSON_FIELDS}}

_SELECT = fill(r"""
WITH obs AS (
  SELECT _row, _file,
    coalesce(trace, json_object('id', id, 'sessionId', sessionId, 'userId', userId, 'tags', tags,
                                'metadata', metadata)) AS tr,
    unnest(json_extract(observations, '$[*]')) AS o
  FROM src WHERE observations IS NOT NULL
  UNION ALL
  SELECT _row, _file, NULL, {{row_object}} FROM src WHERE observations IS NULL
), b AS (
  SELECT _row, _file, tr, o,
    {{id}} AS oid,
    coalesce({{traceId}}, json_extract_string(tr, 'id')) AS tid,
    upper({{type}}) AS typ,
    {{name}} AS nm,
    tc_time({{startTime}}) AS t0, tc_time({{endTime}}) AS t1,
    {{model}} AS mdl,
    tcx_j({{input}}) AS inp, tcx_j({{output}}) AS outp,
    tcx_j({{usageDetails}}) AS ud, tcx_j({{usage}}) AS ul, tcx_j({{costDetails}}) AS cd,
    tcx_j({{metadata}}) AS md,
    upper({{level}}) AS lvl, {{statusMessage}} AS smsg
  FROM obs
), m AS (
  SELECT *,
    tc_map(json_extract(md, '$."attributes"')) AS attrs,
    CASE typ WHEN 'GENERATION' THEN 'llm' WHEN 'EMBEDDING' THEN 'embedding' WHEN 'TOOL' THEN 'tool'
             WHEN 'AGENT' THEN 'agent' WHEN 'CHAIN' THEN 'chain' WHEN 'SPAN' THEN 'chain'
             WHEN 'RETRIEVER' THEN 'retriever' ELSE 'other' END AS knd,
    -- usageDetails' `input`/`output` leave out their details (input_cache_read, output_reasoning…),
    -- which the SDKs and the server subtract from them: the call's tokens are their sum
    coalesce(tcx_lf_tokens(ud, 'input'), tc_tokens(json_extract(ud, 'prompt_tokens')),
             tc_tokens(json_extract(ud, 'input_tokens')), tc_tokens(json_extract(ul, 'input')),
             tc_tokens(json_extract(ul, 'promptTokens')), tc_tokens({{promptTokens}})) AS p_tok,
    coalesce(tcx_lf_tokens(ud, 'output'), tc_tokens(json_extract(ud, 'completion_tokens')),
             tc_tokens(json_extract(ud, 'output_tokens')), tc_tokens(json_extract(ul, 'output')),
             tc_tokens(json_extract(ul, 'completionTokens')), tc_tokens({{completionTokens}})) AS c_tok,
    coalesce(tc_tokens(json_extract(ud, 'total')), tc_tokens(json_extract(ud, 'total_tokens')),
             tc_tokens(json_extract(ul, 'total')), tc_tokens({{totalTokens}})) AS t_tok,
    tcx_lf_cached(ud) AS cache_tok,
    coalesce(tc_num(json_extract(cd, 'total')), tc_num({{calculatedTotalCost}}), tc_num({{totalCost}}),
             tc_num(json_extract(cd, 'input')) + tc_num(json_extract(cd, 'output'))) AS cost,
    CASE WHEN json_type(inp) = 'ARRAY' THEN tcx_lc_msgs(inp)
         WHEN json_type(inp, '$.messages') = 'ARRAY' THEN tcx_lc_msgs(json_extract(inp, 'messages'))
         WHEN json_type(inp) = 'VARCHAR' THEN json_array(json_object('role', 'user', 'content', inp->>'$'))
    END AS in_msgs,
    CASE WHEN json_type(outp) = 'OBJECT' AND json_exists(outp, '$.choices') THEN NULL
         WHEN json_type(outp) = 'OBJECT' THEN tcx_lc_msg(outp)
         WHEN json_type(outp) = 'VARCHAR' THEN json_object('role', 'assistant', 'content', outp->>'$')
    END AS out_msg
  FROM b WHERE oid IS NOT NULL AND tid IS NOT NULL
)
SELECT
  'langfuse:' || oid AS record_key,
  tid AS trace_id,
  oid AS span_id,
  {{parentObservationId}} AS parent_span_id,
  coalesce(nm, lower(typ)) AS name,
  knd AS kind,
  t0 AS start_time,
  date_diff('microsecond', t0, t1) / 1000.0 AS duration_ms,
  coalesce(json_extract_string(md, 'ls_provider'), json_extract_string(md, 'provider')) AS provider,
  CASE WHEN tc_is_call(knd) THEN mdl END AS model,
  CASE WHEN lvl = 'ERROR' THEN 'error' ELSE 'ok' END AS status,
  CASE WHEN lvl = 'ERROR' THEN coalesce(smsg, 'error') END AS error,
  {{call_usage}},
  {{span_metadata}} AS metadata,
  CASE WHEN knd = 'llm' AND in_msgs IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'messages', in_msgs,
         'tools', coalesce(json_extract(inp, 'tools'), json_extract({{modelParameters}}, 'tools')))) END AS request,
  CASE WHEN knd = 'llm' AND json_exists(outp, '$.choices') THEN outp
       WHEN knd = 'llm' AND out_msg IS NOT NULL THEN tcx_completion(mdl, out_msg, NULL, p_tok, c_tok, t_tok)
  END AS response,
  CASE WHEN knd = 'tool' THEN coalesce(json_extract_string(md, 'tool_call_id'),
         attrs['gen_ai.tool.call.id'], attrs['tool_call.id'], json_extract_string(outp, 'tool_call_id'),
         json_extract_string(tcx_lc_body(outp), 'tool_call_id'), json_extract_string(inp, 'tool_call_id'))
       END AS tool_call_id,
  -- OpenTelemetry tool spans name the tool in their attributes (CrewAI's span is `<tool>._use`)
  CASE WHEN knd = 'tool' THEN coalesce(attrs['gen_ai.tool.name'], attrs['tool.name'], nm) END AS tool_name,
  CASE WHEN knd = 'tool' THEN CASE WHEN json_type(inp) = 'VARCHAR' THEN tcx_loose_json(inp->>'$')
                                   WHEN json_type(inp, '$.input') = 'VARCHAR' AND len(json_keys(inp)) = 1
                                     THEN tcx_loose_json(json_extract_string(inp, 'input'))
                                   ELSE inp END END AS tool_arguments,
  CASE WHEN knd = 'tool' THEN CASE WHEN json_type(outp) = 'OBJECT'
                                     THEN coalesce(tc_content(json_extract(tcx_lc_body(outp), 'content')), CAST(outp AS VARCHAR))
                                   ELSE tc_text(outp) END END AS tool_result,
  _file AS source_file,
  _row AS source_row
FROM m
""", keep=(), row_object=_ROW_OBJECT, call_usage=CALL_USAGE, span_metadata=_METADATA,
               **_READS)


def select(options: ReadOptions) -> str:
    return _SELECT


READER = Reader(
    name="langfuse",
    description="Langfuse trace downloads ({trace, observations}) and observation exports",
    claims=claims,
    columns=COLUMNS,
    select=select,
)
