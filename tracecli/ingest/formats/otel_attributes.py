"""Spans carrying OpenTelemetry GenAI, OpenInference, OpenLLMetry or Langfuse attributes, as
canonical spans.

Shared by the OTLP JSON reader (the conventions ride on the same envelope) and the Phoenix
span-export reader. Each of those first normalises its records to the relation `n`:

  trace_id, span_id, parent_span_id, name VARCHAR; t0, t1 TIMESTAMP; status_error BOOLEAN;
  status_message, exception VARCHAR; a MAP(VARCHAR, JSON) (attributes by dotted key, values as
  plain JSON); resource JSON (the resource's attributes as an object), scope JSON (the
  instrumentation scope {name, version, attributes}), each NULL where the source keeps none;
  _file, _row

and `span_select` maps `n` to canonical span columns. What the instrumentation recorded besides
goes into the span's metadata under tracecli's `otel.*` keys (tracecli.sql.macros), never as
tags: the resource, the scope, and the span attributes the mapping does not read (ATTRIBUTES_KEY;
a call's or tool's input and output attributes only where its columns did not take them).
Conventions read (both spellings where a name was deprecated):

- gen_ai.* (semantic-conventions-genai);
- OpenInference: openinference.span.kind, llm.*, tool.*, tool_call.*, input.value / output.value,
  session.id, user.id, metadata, tag.tags;
- OpenLLMetry (Traceloop) before 0.55: flattened gen_ai.prompt.N.* / gen_ai.completion.N.*
  (llm.prompts / llm.completions before 0.20), llm.request.functions.N.*, llm.request.type,
  llm.usage.*, traceloop.span.kind, traceloop.entity.*, traceloop.association.properties.*
  (user tags), traceloop.workflow.name;
- the Langfuse OTel SDK (v3+): langfuse.observation.* (type, input, output, model, usage and
  cost details, level, metadata.*), langfuse.trace.* (name, tags, metadata.*), user.id /
  session.id, langfuse.environment / release / version. Its values are JSON-encoded (v3.0 encodes
  strings too).
"""

from __future__ import annotations

import re

from tracecli.ingest.formats.base import CALL_USAGE
from tracecli.sql import macros
from tracecli.sql.template import fill, literal


def _first(*keys: str) -> str:
    """The first of these attributes present, as text."""
    return _coalesce("tcx_s(a, {{key}})", keys)


def _first_tokens(*keys: str) -> str:
    """The first of these attributes present, as a token count."""
    return _coalesce("tc_tokens(a[{{key}}])", keys)


def _coalesce(read: str, keys: tuple[str, ...]) -> str:
    return fill("coalesce({{reads}})", reads=", ".join(fill(read, key=literal(k)) for k in keys))


def _tags(prefix: str, skip: str = "") -> str:
    """Metadata entries from the attributes under `prefix.`, but those `skip` (a condition on
    `e.key`) names."""
    read = fill("tcx_prefixed(a, {{prefix}})", prefix=literal(prefix))
    if not skip:
        return read
    return fill("list_filter({{read}}, lambda e: NOT ({{skip}}))", read=read, skip=skip)


KIND = """CASE
  WHEN oik = 'LLM' THEN 'llm' WHEN oik = 'EMBEDDING' THEN 'embedding' WHEN oik = 'TOOL' THEN 'tool'
  WHEN oik = 'AGENT' THEN 'agent' WHEN oik = 'CHAIN' THEN 'chain'
  WHEN oik IN ('RETRIEVER', 'RERANKER') THEN 'retriever' WHEN oik IS NOT NULL THEN 'other'
  WHEN lft = 'generation' THEN 'llm' WHEN lft = 'embedding' THEN 'embedding' WHEN lft = 'tool' THEN 'tool'
  WHEN lft = 'agent' THEN 'agent' WHEN lft IN ('chain', 'span') THEN 'chain'
  WHEN lft = 'retriever' THEN 'retriever' WHEN lft IS NOT NULL THEN 'other'
  WHEN op IN ('chat', 'text_completion', 'generate_content', 'completion', 'responses') THEN 'llm'
  WHEN op IN ('embeddings', 'embedding') THEN 'embedding'
  WHEN op = 'execute_tool' THEN 'tool'
  WHEN op IN ('invoke_agent', 'create_agent') THEN 'agent'
  WHEN tlk IN ('workflow', 'task') THEN 'chain' WHEN tlk = 'agent' THEN 'agent' WHEN tlk = 'tool' THEN 'tool'
  WHEN lrt IN ('chat', 'completion') THEN 'llm' WHEN lrt = 'embedding' THEN 'embedding'
  WHEN lrt = 'rerank' THEN 'retriever'
  WHEN name LIKE 'chat %' OR name LIKE 'text_completion %' OR name LIKE 'generate_content %' THEN 'llm'
  WHEN name LIKE 'embeddings %' THEN 'embedding'
  WHEN name LIKE 'execute_tool %' THEN 'tool'
  WHEN name LIKE 'invoke_agent %' OR name = 'invoke_agent' THEN 'agent'
  ELSE 'other' END"""

# Observation metadata that is no tag: LangChain's ls_* / langgraph_* keys, and what the
# Langfuse LangChain handler copies into a tool's metadata from LangChain's callback arguments
# (CallbackHandler.on_tool_start: `meta.update(kwargs)`, which holds the tool's `inputs`; 3.0
# records tools as plain spans, so that key tells them).
_NOT_TAGS = """starts_with(e.key, 'ls_') OR starts_with(e.key, 'langgraph_') OR e.key = 'tool_call_id'
  OR ((knd = 'tool' OR a['langfuse.observation.metadata.inputs'] IS NOT NULL)
      AND e.key IN ('color', 'inputs', 'name'))"""

# The attributes each canonical value is read from, in order of preference.
_ATTRIBUTES = dict(
    model=_first('gen_ai.response.model', 'gen_ai.request.model', 'llm.model_name', 'embedding.model_name',
                 'llm.response.model', 'llm.request.model', 'langfuse.observation.model.name'),
    prompt_tokens=_first_tokens('gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt',
                                'llm.usage.prompt_tokens'),
    completion_tokens=_first_tokens('gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens',
                                    'llm.token_count.completion', 'llm.usage.completion_tokens'),
    cached_tokens=_first_tokens('gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens',
                                'llm.token_count.prompt_details.cache_read'),
    cache_writes=_first_tokens('gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_creation_input_tokens',
                               'llm.token_count.prompt_details.cache_write'),
    total_tokens=_first_tokens('llm.token_count.total', 'gen_ai.usage.total_tokens', 'llm.usage.total_tokens'),
    provider=_first('gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'llm.vendor'),
    tool_call_id=_first('gen_ai.tool.call.id', 'tool_call.id'),
    tool_name=_first('gen_ai.tool.name', 'tool.name', 'tool_call.function.name', 'traceloop.entity.name'),
    tool_arguments=_first('gen_ai.tool.call.arguments', 'tool_call.function.arguments'),
    session_id=_first('session.id', 'gen_ai.conversation.id', 'langfuse.session.id'),
    user_id=_first('user.id', 'langfuse.user.id'),
    trace_metadata=_tags('langfuse.trace.metadata'),
    observation_metadata=_tags('langfuse.observation.metadata', _NOT_TAGS),
    association_properties=_tags('traceloop.association.properties', "starts_with(e.key, 'ls_')"),
)

_MAPPING = fill("""
WITH {{normalise}},
c AS (
  SELECT *,
    upper(tcx_s(a, 'openinference.span.kind')) AS oik,
    lower(tcx_s(a, 'langfuse.observation.type')) AS lft,
    lower(tcx_s(a, 'gen_ai.operation.name')) AS op,
    lower(tcx_s(a, 'traceloop.span.kind')) AS tlk,
    lower(tcx_s(a, 'llm.request.type')) AS lrt,
    -- OpenLLMetry's flattened messages: `gen_ai.*` from 0.20, `llm.*` before
    CASE WHEN a['llm.prompts.0.content'] IS NOT NULL OR a['llm.prompts.0.role'] IS NOT NULL
              OR a['llm.prompts.0.user'] IS NOT NULL
         THEN 'llm.prompts' ELSE 'gen_ai.prompt' END AS tl_prompts,
    CASE WHEN a['llm.completions.0.content'] IS NOT NULL OR a['llm.completions.0.role'] IS NOT NULL
              OR a['llm.completions.0.finish_reason'] IS NOT NULL
         THEN 'llm.completions' ELSE 'gen_ai.completion' END AS tl_completions,
    {{model}} AS mdl,
    tcx_j(a['input.value']) AS in_value_raw,
    tcx_j(a['output.value']) AS out_value_raw,
    tcx_loose_json({{tool_arguments}}) AS args_attr,
    tcx_j(a['gen_ai.tool.call.result']) AS result_attr,
    tcx_j(a['traceloop.entity.input']) AS tl_in,
    tcx_j(a['traceloop.entity.output']) AS tl_out_raw,
    tcx_j(a['langfuse.observation.input']) AS lf_in,
    tcx_j(a['langfuse.observation.output']) AS lf_out,
    tcx_j(a['langfuse.observation.usage_details']) AS lf_usage,
    upper(tcx_s(a, 'langfuse.observation.level')) = 'ERROR' AS lf_error
  FROM n
), k AS (
  SELECT *, {{kind}} AS knd,
    tcx_call_output(tl_out_raw) AS tl_out,
    -- the LangChain instrumentation's tool result {"output", "kwargs"}, in the GenAI attribute
    CASE WHEN list_sort(json_keys(result_attr)) = ['kwargs', 'output'] THEN tcx_call_output(result_attr) END
      AS result_wrapped,
    tcx_lc_body(lf_out) AS lf_body,
    tcx_lf_msg_list(lf_in) AS lf_msg_list,
    -- OpenInference's input and output messages by one call (the macro is large to bind)
    CASE WHEN a['gen_ai.input.messages'] IS NULL OR a['gen_ai.output.messages'] IS NULL
         THEN list_transform(['llm.input_messages', 'llm.output_messages'],
                             lambda oi_messages: tcx_oi_msgs(a, oi_messages)) END AS oi_msgs
  FROM c
), msg AS (
  SELECT *,
    CASE WHEN a['gen_ai.input.messages'] IS NOT NULL THEN tcx_genai_msgs(a['gen_ai.input.messages'])
         ELSE coalesce(oi_msgs[1], tcx_tl_msgs(a, tl_prompts),
                       CASE WHEN knd = 'llm' THEN to_json(list_transform(json_extract(lf_msg_list, '$[*]'),
                                                                          lambda m: tcx_lc_msg(m))) END)
    END AS in_msgs,
    tcx_genai_system(a['gen_ai.system_instructions']) AS sys_text,
    CASE WHEN a['gen_ai.output.messages'] IS NOT NULL THEN tcx_genai_choices(a['gen_ai.output.messages'])
         ELSE oi_msgs[2] END AS out_raw,
    coalesce(tcx_tl_choices(a, tl_completions),
             CASE WHEN knd = 'llm' THEN json_array(json_object('index', 0, 'message', tcx_lf_msg(lf_out, lf_body))) END)
      AS flat_choices,
    coalesce(tcx_tools(a['gen_ai.tool.definitions']), tcx_oi_tools(a), tcx_tl_tools(a),
             CASE WHEN knd = 'llm' THEN tcx_lf_tools(lf_in) END) AS tools,
    tcx_lc_body(tl_out) AS tl_body,
    tcx_lc_body(result_wrapped) AS result_body,
    coalesce({{prompt_tokens}}, tcx_lf_tokens(lf_usage, 'input')) AS p_tok,
    coalesce({{completion_tokens}}, tcx_lf_tokens(lf_usage, 'output')) AS c_tok,
    coalesce({{cached_tokens}}, tcx_lf_cached(lf_usage)) AS cache_tok,
    coalesce({{cache_writes}}, tcx_lf_cache_write(lf_usage)) AS cache_write_tok,
    coalesce({{total_tokens}}, tc_tokens(json_extract(lf_usage, 'total')),
             tc_tokens(json_extract(lf_usage, 'total_tokens'))) AS t_tok,
    coalesce(tc_num(a['llm.cost.total']), tc_num(a['llm.cost.prompt']) + tc_num(a['llm.cost.completion']),
             tcx_lf_cost(tcx_j(a['langfuse.observation.cost_details']))) AS cost,
    list_concat(
      list_filter(map_entries(coalesce(tc_map(a['metadata']), MAP {}::MAP(VARCHAR, VARCHAR))),
                  lambda e: NOT starts_with(e.key, 'ls_')),
      [{'key': 'session_id', 'value': {{session_id}}},
       {'key': 'user_id', 'value': {{user_id}}},
       {'key': 'tags', 'value': coalesce(tcx_tags(a['tag.tags']), tcx_tags(a['langfuse.trace.tags']))}],
      {{trace_metadata}}, {{observation_metadata}}, {{association_properties}},
      [{'key': 'trace_name', 'value': tcx_s(a, 'langfuse.trace.name')},
       {'key': 'environment', 'value': tcx_s(a, 'langfuse.environment')},
       {'key': 'release', 'value': tcx_s(a, 'langfuse.release')},
       {'key': 'version', 'value': tcx_s(a, 'langfuse.version')},
       {'key': 'workflow', 'value': tcx_s(a, 'traceloop.workflow.name')}],
      [{'key': {{resource_key}}, 'value': nullif(CAST(resource AS VARCHAR), '{}')},
       {'key': {{scope_key}}, 'value': CAST(scope AS VARCHAR)},
       {'key': {{attributes_key}}, 'value': {{unread}}}]) AS meta_entries
  FROM k
), body AS (
  SELECT *,
    -- OpenInference output messages come as messages; GenAI ones already as choices
    CASE WHEN a['gen_ai.output.messages'] IS NOT NULL THEN out_raw
         WHEN out_raw IS NOT NULL THEN to_json(list_transform(json_extract(out_raw, '$[*]'),
           lambda x, i: json_object('index', i - 1, 'message', x)))
         WHEN json_type(flat_choices, '$[0].message') = 'OBJECT' THEN flat_choices END AS choices,
    CASE WHEN sys_text IS NOT NULL AND in_msgs IS NOT NULL
         THEN to_json(list_concat([json_object('role', 'system', 'content', sys_text)],
                                  json_extract(in_msgs, '$[*]')))
         ELSE in_msgs END AS messages,
    CASE WHEN coalesce(p_tok, c_tok) IS NOT NULL THEN tcx_obj(json_object(
      'prompt_tokens', p_tok, 'completion_tokens', c_tok, 'total_tokens', tc_total_tokens(t_tok, p_tok, c_tok),
      'prompt_tokens_details', CASE WHEN cache_tok IS NOT NULL THEN json_object('cached_tokens', cache_tok) END,
      'cache_creation_input_tokens', cache_write_tok)) END AS usage
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
  coalesce({{provider}}, tc_text(tcx_j(a['langfuse.observation.metadata.ls_provider']))) AS provider,
  mdl AS model,
  CASE WHEN status_error OR lf_error OR tcx_s(a, 'error.type') IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
  tc_int32(a['http.response.status_code']) AS http_status,
  CASE WHEN status_error OR lf_error OR tcx_s(a, 'error.type') IS NOT NULL
       THEN coalesce(nullif(status_message, ''), exception, tcx_s(a, 'error.type'),
                     tcx_s(a, 'langfuse.observation.status_message')) END AS error,
  {{call_usage}},
  tcx_meta(meta_entries) AS metadata,
  CASE WHEN messages IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'messages', messages, 'tools', tools))
       WHEN json_type(in_value_raw) = 'OBJECT' AND json_exists(in_value_raw, '$.messages') THEN in_value_raw
  END AS request,
  CASE WHEN choices IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'choices', choices, 'usage', usage))
       WHEN json_type(out_value_raw) = 'OBJECT' AND json_exists(out_value_raw, '$.choices') THEN out_value_raw
       WHEN knd = 'llm' AND json_type(lf_out) = 'OBJECT' AND json_exists(lf_out, '$.choices') THEN lf_out
       WHEN knd = 'llm' AND json_type(out_value_raw) = 'VARCHAR'
         THEN tcx_completion(mdl, json_object('role', 'assistant', 'content', out_value_raw->>'$'),
                             NULL, p_tok, c_tok, t_tok)
       -- cache writes have no column: the usage keeps them
       WHEN cache_write_tok IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'usage', usage))
  END AS response,
  CASE WHEN knd = 'tool' THEN coalesce({{tool_call_id}},
         json_extract_string(out_value_raw, 'tool_call_id'),
         json_extract_string(tl_body, 'tool_call_id'),
         tc_text(tcx_j(a['langfuse.observation.metadata.tool_call_id'])),
         json_extract_string(lf_body, 'tool_call_id')) END AS tool_call_id,
  CASE WHEN knd = 'tool' THEN coalesce({{tool_name}},
         nullif(regexp_replace(name, '^execute_tool ', ''), '')) END AS tool_name,
  CASE WHEN knd = 'tool' THEN coalesce(tcx_call_args(args_attr), tcx_loose_json(tcx_s(a, 'input.value')),
                                       tcx_call_args(tl_in), tcx_call_args(lf_in)) END AS tool_arguments,
  CASE WHEN knd = 'tool' THEN coalesce(
         CASE WHEN result_wrapped IS NOT NULL THEN tcx_tool_text(result_wrapped, result_body)
              ELSE tcx_s(a, 'gen_ai.tool.call.result') END,
         CASE WHEN json_type(out_value_raw) = 'OBJECT' AND json_exists(out_value_raw, '$.content')
              THEN tc_content(json_extract(out_value_raw, 'content')) END,
         tcx_s(a, 'output.value'), tcx_tool_text(tl_out, tl_body), tcx_tool_text(lf_out, lf_body)) END AS tool_result,
  _file AS source_file,
  _row AS source_row
FROM body
""", keep=("normalise", "unread"), kind=KIND, call_usage=CALL_USAGE,
                resource_key=literal(macros.RESOURCE_KEY), scope_key=literal(macros.SCOPE_KEY),
                attributes_key=literal(macros.ATTRIBUTES_KEY), **_ATTRIBUTES)

# Attribute families the shapes macros read by prefix (`name` and `name.*`): OpenInference
# messages and tools, OpenLLMetry's flattened prompts, completions and functions, and the tags
# under Langfuse's metadata and Traceloop's association properties.
_READ_BY_PREFIX = ("llm.input_messages", "llm.output_messages", "llm.tools", "llm.request.functions",
                   "gen_ai.prompt", "llm.prompts", "gen_ai.completion", "llm.completions",
                   "langfuse.trace.metadata", "langfuse.observation.metadata",
                   "traceloop.association.properties")
# A call's or tool's input and output: its request, response and tool columns hold them. The
# same attributes on other spans (a chain's input, an agent's result) are kept.
_CONTENT = ("input.value", "output.value", "traceloop.entity.input", "traceloop.entity.output",
            "langfuse.observation.input", "langfuse.observation.output")


def _unread(mapping: str) -> str:
    """SQL: the span attributes `mapping` does not read, as a JSON object (NULL when none). The
    attributes it reads by name are found in its own text, so a key the mapping learns leaves
    this object by itself."""
    by_name = set(re.findall(r"\ba\['([^']+)'\]|tcx_s\(a, '([^']+)'\)", mapping))
    names = sorted({key for pair in by_name for key in pair if key} - set(_CONTENT))
    read = "(?s)" + "|".join([*map(re.escape, names),
                              *(re.escape(p) + r"(?:\..*)?" for p in _READ_BY_PREFIX)])
    return fill("""nullif(CAST(to_json(map_from_entries(list_filter(map_entries(a), lambda e: NOT (
      regexp_full_match(e.key, {{read}})
      OR (knd IN ('llm', 'embedding', 'tool') AND e.key IN ({{content}})))))) AS VARCHAR), '{}')""",
                read=literal(read), content=", ".join(map(literal, _CONTENT)))


_SPAN_SELECT = fill(_MAPPING, keep=("normalise",), unread=_unread(_MAPPING))


def span_select(normalise: str) -> str:
    """SQL: `normalise` is `WITH ... n AS (...)`-ready CTE text defining `n` (without WITH)."""
    return fill(_SPAN_SELECT, normalise=normalise)
