"""LangSmith runs (langsmith-sdk `schemas.Run`), as JSONL or a Parquet bulk export.

Runs nest by `parent_run_id` (or the `dotted_order` path); the trace is `trace_id` (or the
root of `dotted_order`). LLM runs carry LangChain messages (serialised `{lc, kwargs}` or plain)
in `inputs.messages` and generations in `outputs.generations`, or OpenAI bodies when traced by
`wrap_openai`; tokens in `prompt_tokens`/`completion_tokens`/`total_tokens` or
`outputs.usage_metadata`; cost in `total_cost` (or prompt + completion cost)."""

from __future__ import annotations

from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill

_TEXT = ["id", "trace_id", "parent_run_id", "dotted_order", "name", "run_type", "start_time",
         "end_time", "error", "status", "prompt_tokens", "completion_tokens", "total_tokens",
         "prompt_cost", "completion_cost", "total_cost", "session_id"]
_JSON = ["inputs", "outputs", "extra", "tags"]
COLUMNS = {**{c: "VARCHAR" for c in _TEXT}, **{c: "JSON" for c in _JSON}}

RUN_TYPES = {"llm", "chain", "tool", "retriever", "embedding", "prompt", "parser"}


def claims(k: Keys) -> str:
    """A run: its run_type, its id, and where it sits in its trace."""
    return fill("({{type}} AND {{id}} AND {{place}})", type=k.one_of("run_type", RUN_TYPES),
                id=k.has("id"), place=k.has("dotted_order", "parent_run_id", "trace_id"))


def select(options: ReadOptions) -> str:
    return r"""
WITH r AS (
  -- no filter here (the routing check must see every record): a run without an id, which only
  -- --format langsmith reads, is keyed by its content
  SELECT * REPLACE (coalesce(id, md5(concat_ws('|', name, run_type, CAST(start_time AS VARCHAR),
                                                CAST(inputs AS VARCHAR), CAST(outputs AS VARCHAR)))) AS id),
    tcx_j(inputs) AS i, tcx_j(outputs) AS o, tcx_j(extra) AS x,
    lower(run_type) AS rt,
    tc_time(start_time) AS t0, tc_time(end_time) AS t1
  FROM src
), g AS (
  SELECT *,
    CASE WHEN json_type(o, '$.generations[0]') = 'ARRAY' THEN json_extract(o, '$.generations[0][0]')
         ELSE json_extract(o, '$.generations[0]') END AS gen,
    coalesce(json_extract_string(x, '$.metadata.ls_model_name'),
             json_extract_string(x, '$.invocation_params.model'),
             json_extract_string(x, '$.invocation_params.model_name'),
             json_extract_string(o, '$.llm_output.model_name'), json_extract_string(o, 'model')) AS mdl,
    coalesce(tc_tokens(prompt_tokens), tc_tokens(json_extract(o, '$.usage_metadata.input_tokens')),
             tc_tokens(json_extract(o, '$.llm_output.token_usage.prompt_tokens')),
             tc_tokens(json_extract(o, '$.usage.prompt_tokens'))) AS p_tok,
    coalesce(tc_tokens(completion_tokens), tc_tokens(json_extract(o, '$.usage_metadata.output_tokens')),
             tc_tokens(json_extract(o, '$.llm_output.token_usage.completion_tokens')),
             tc_tokens(json_extract(o, '$.usage.completion_tokens'))) AS c_tok,
    coalesce(tc_tokens(total_tokens), tc_tokens(json_extract(o, '$.usage_metadata.total_tokens')),
             tc_tokens(json_extract(o, '$.llm_output.token_usage.total_tokens')),
             tc_tokens(json_extract(o, '$.usage.total_tokens'))) AS t_tok
  FROM r
), m AS (
  SELECT *,
    coalesce(tc_tokens(json_extract(gen, '$.message.kwargs.usage_metadata.input_tokens')), p_tok) AS p2,
    coalesce(tc_tokens(json_extract(gen, '$.message.kwargs.usage_metadata.output_tokens')), c_tok) AS c2,
    CASE WHEN json_exists(gen, '$.message') THEN tcx_lc_msg(json_extract(gen, 'message'))
         WHEN gen IS NOT NULL THEN json_object('role', 'assistant', 'content', json_extract_string(gen, 'text'))
         WHEN json_type(o, '$.output') = 'OBJECT' THEN tcx_lc_msg(json_extract(o, 'output'))
         WHEN json_type(o, '$.message') = 'OBJECT' THEN tcx_lc_msg(json_extract(o, 'message'))
    END AS out_msg,
    coalesce(tcx_lc_msgs(json_extract(i, 'messages')),
             CASE WHEN json_type(i, '$.prompts') = 'ARRAY' THEN json_array(json_object(
               'role', 'user', 'content', json_extract_string(i, '$.prompts[0]'))) END) AS in_msgs,
    -- a tool run's result: a ToolMessage (serialised or plain) or text
    CASE WHEN json_type(o, '$.output') = 'OBJECT' THEN tcx_lc_body(json_extract(o, 'output')) END AS tool_msg
  FROM g
)
SELECT
  'langsmith:' || id AS record_key,
  coalesce(nullif(trace_id, ''), regexp_extract(dotted_order, '^[0-9]{8}T[0-9]+Z([0-9a-fA-F-]{36})', 1), id) AS trace_id,
  id AS span_id,
  coalesce(nullif(parent_run_id, ''),
           nullif(regexp_extract(dotted_order, 'Z([0-9a-fA-F-]{36})\.[0-9]{8}T[0-9]+Z[0-9a-fA-F-]{36}$', 1), '')) AS parent_span_id,
  name,
  CASE rt WHEN 'llm' THEN 'llm' WHEN 'embedding' THEN 'embedding' WHEN 'tool' THEN 'tool'
          WHEN 'chain' THEN 'chain' WHEN 'retriever' THEN 'retriever' ELSE 'other' END AS kind,
  t0 AS start_time,
  date_diff('microsecond', t0, t1) / 1000.0 AS duration_ms,
  json_extract_string(x, '$.metadata.ls_provider') AS provider,
  CASE WHEN tc_is_call(rt) THEN mdl END AS model,
  CASE WHEN nullif(error, '') IS NOT NULL OR lower(status) = 'error' THEN 'error' ELSE 'ok' END AS status,
  NULL::INTEGER AS http_status,
  nullif(error, '') AS error,
  CASE WHEN tc_is_call(rt) THEN p2 END AS prompt_tokens,
  CASE WHEN tc_is_call(rt) THEN c2 END AS completion_tokens,
  CASE WHEN tc_is_call(rt) THEN tc_tokens(json_extract(o, '$.usage_metadata.input_token_details.cache_read')) END AS cached_tokens,
  CASE WHEN tc_is_call(rt) THEN tc_total_tokens(t_tok, p2, c2) END AS total_tokens,
  CASE WHEN tc_is_call(rt) THEN coalesce(tc_num(total_cost), tc_num(prompt_cost) + tc_num(completion_cost)) END AS cost_usd,
  CASE WHEN tc_is_call(rt) AND coalesce(tc_num(total_cost), tc_num(prompt_cost) + tc_num(completion_cost)) IS NOT NULL
       THEN 'logged' END AS cost_source,
  tcx_meta(list_concat(
    list_filter(map_entries(coalesce(tc_map(json_extract(x, 'metadata')), MAP {}::MAP(VARCHAR, VARCHAR))),
                lambda e: NOT (e.key LIKE 'ls\_%' ESCAPE '\' OR e.key LIKE 'langgraph\_%' ESCAPE '\'
                               OR e.key IN ('revision_id', 'checkpoint_ns') OR upper(e.key) LIKE 'LANGCHAIN%')),
    [{'key': 'tags', 'value': tcx_tags(tags)}])) AS metadata,
  CASE WHEN rt = 'llm' AND json_exists(i, '$.messages') AND json_type(i, '$.messages[0]') = 'OBJECT'
            AND json_exists(i, '$.messages[0].role') AND json_exists(o, '$.choices') THEN i
       WHEN rt = 'llm' AND in_msgs IS NOT NULL THEN tcx_obj(json_object('model', mdl, 'messages', in_msgs,
         'tools', coalesce(json_extract(x, '$.invocation_params.tools'), json_extract(i, 'tools'))))
  END AS request,
  CASE WHEN rt = 'llm' AND json_exists(o, '$.choices') THEN o
       WHEN rt = 'llm' AND out_msg IS NOT NULL THEN tcx_completion(mdl, out_msg,
         json_extract_string(gen, '$.generation_info.finish_reason'), p2, c2, t_tok)
  END AS response,
  CASE WHEN rt = 'tool' THEN coalesce(json_extract_string(tool_msg, 'tool_call_id'),
                                       json_extract_string(i, 'tool_call_id')) END AS tool_call_id,
  CASE WHEN rt = 'tool' THEN name END AS tool_name,
  CASE WHEN rt = 'tool' THEN CASE
         WHEN json_type(i, '$.input') = 'VARCHAR' THEN tcx_loose_json(json_extract_string(i, 'input'))
         WHEN json_type(i, '$.input') = 'OBJECT' THEN json_extract(i, 'input')
         ELSE i END END AS tool_arguments,
  CASE WHEN rt = 'tool' THEN coalesce(tc_content(json_extract(tool_msg, 'content')),
                                       tc_text(json_extract(o, 'output')),
                                       CASE WHEN o IS NOT NULL THEN CAST(o AS VARCHAR) END) END AS tool_result,
  _file AS source_file,
  _row AS source_row
FROM m
"""


READER = Reader(
    name="langsmith",
    description="LangSmith runs (JSONL or Parquet bulk export): run_type, parent_run_id, "
                "dotted_order, LangChain messages, usage and cost",
    claims=claims,
    columns=COLUMNS,
    select=select,
    row_per_record=True,
)
