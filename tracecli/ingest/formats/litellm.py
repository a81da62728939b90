"""LiteLLM: StandardLoggingPayload (custom-logger JSONL, or one object per `.json` file as the
S3/GCS loggers write `{prefix}/{YYYY-MM-DD}/{id}.json`) and LiteLLM_SpendLogs rows.

No parent spans: calls group by `trace_id` (SpendLogs: `session_id`) and the tree comes from
call order plus the tool_call_id of tool results in later requests. `startTime`/`endTime` are
epoch seconds or datetime strings; SpendLogs carries `metadata` and `request_tags` as JSON
strings and `cache_hit` as "True"/"False"/"None"."""

from __future__ import annotations

from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill

_TEXT = ["id", "litellm_call_id", "request_id", "trace_id", "session_id", "call_type", "status",
         "response_cost", "spend", "custom_llm_provider", "total_tokens", "prompt_tokens",
         "completion_tokens", "startTime", "endTime", "completionStartTime", "response_time",
         "model", "model_group", "model_id", "api_base", "cache_hit", "cache_key", "end_user",
         "user", "team_id", "error_str", "stream"]
_JSON = ["metadata", "request_tags", "messages", "response", "model_parameters",
         "error_information", "hidden_params", "proxy_server_request"]
COLUMNS = {**{c: "VARCHAR" for c in _TEXT}, **{c: "JSON" for c in _JSON}}

_PAYLOAD = {"response_cost", "custom_llm_provider", "model_group", "call_type", "startTime",
            "endTime", "litellm_call_id", "model_parameters", "hidden_params", "error_str"}


def claims(k: Keys) -> str:
    """A SpendLogs row, or three of the StandardLoggingPayload's own fields."""
    spend_log = fill("({{id}} AND {{spend}} AND {{when}})", id=k.has("request_id"),
                     spend=k.has("spend"), when=k.has("startTime", "call_type"))
    payload = fill("({{count}} >= 3 AND {{when}})", count=k.count(sorted(_PAYLOAD)),
                   when=k.has("startTime", "litellm_call_id"))
    return fill("({{spend_log}} OR {{payload}})", spend_log=spend_log, payload=payload)


def select(options: ReadOptions) -> str:
    return """
WITH l AS (
  SELECT *,
    coalesce(id, litellm_call_id, request_id) AS rid,
    tcx_j(metadata) AS md,
    tcx_j(response) AS res0,
    tcx_j(messages) AS msgs,
    tcx_j(model_parameters) AS params,
    tc_time(startTime) AS t0,
    tc_time(endTime) AS t1,
    lower(coalesce(status, tcx_j(metadata)->>'status')) AS st
  FROM src
), k AS (
  SELECT *,
    coalesce(rid, md5(concat_ws('|', CAST(msgs AS VARCHAR), CAST(res0 AS VARCHAR), startTime))) AS rk,
    -- the response: a ModelResponse dict; a bare string for text completions
    CASE WHEN json_type(res0) = 'OBJECT' AND json_exists(res0, '$.choices') THEN res0
         WHEN json_type(res0) = 'VARCHAR' AND nullif(res0->>'$', '') IS NOT NULL
           THEN tcx_completion(model, json_object('role', 'assistant', 'content', res0->>'$'), NULL,
                               tc_tokens(prompt_tokens), tc_tokens(completion_tokens), tc_tokens(total_tokens))
    END AS res,
    coalesce(error_str, json_extract_string(error_information, 'error_message'),
             json_extract_string(md, '$.error_information.error_message')) AS err
  FROM l
)
SELECT
  'litellm:' || rk AS record_key,
  coalesce(nullif(trace_id, ''), nullif(session_id, ''), json_extract_string(md, 'trace_id'),
           json_extract_string(md, 'litellm_trace_id'), rk) AS trace_id,
  rk AS span_id,
  NULL AS parent_span_id,
  coalesce(call_type, 'completion') AS name,
  CASE WHEN lower(call_type) LIKE '%embedding%' THEN 'embedding' ELSE 'llm' END AS kind,
  t0 AS start_time,
  coalesce(date_diff('microsecond', t0, t1) / 1000.0, tc_num(response_time) * 1000) AS duration_ms,
  custom_llm_provider AS provider,
  coalesce(nullif(model, ''), res0->>'model') AS model,
  CASE WHEN st IN ('failure', 'error', 'failed') OR (st IS NULL AND err IS NOT NULL) THEN 'error' ELSE 'ok' END AS status,
  tc_int32(json_extract(error_information, 'error_code')) AS http_status,
  CASE WHEN st IN ('failure', 'error', 'failed') OR (st IS NULL AND err IS NOT NULL) THEN err END AS error,
  coalesce(tc_tokens(prompt_tokens), tc_tokens(res->'usage'->>'prompt_tokens')) AS prompt_tokens,
  coalesce(tc_tokens(completion_tokens), tc_tokens(res->'usage'->>'completion_tokens')) AS completion_tokens,
  tc_tokens(res->'usage'->'prompt_tokens_details'->>'cached_tokens') AS cached_tokens,
  coalesce(tc_tokens(total_tokens), tc_tokens(res->'usage'->>'total_tokens')) AS total_tokens,
  tc_num(coalesce(response_cost, spend)) AS cost_usd,
  CASE WHEN tc_num(coalesce(response_cost, spend)) IS NOT NULL THEN 'logged' END AS cost_source,
  CASE tc_bool(CASE WHEN lower(cache_hit) IN ('none', 'null', '') THEN NULL ELSE cache_hit END)
       WHEN true THEN 'HIT' WHEN false THEN 'MISS' END AS cache_status,
  tcx_meta(list_concat(
    map_entries(coalesce(tc_map(md->'spend_logs_metadata'), MAP {}::MAP(VARCHAR, VARCHAR))),
    map_entries(coalesce(tc_map(md->'requester_metadata'), MAP {}::MAP(VARCHAR, VARCHAR))),
    [{'key': 'tags', 'value': coalesce(tcx_tags(request_tags), tcx_tags(md->'tags'))},
     {'key': 'end_user', 'value': coalesce(nullif(end_user, ''), json_extract_string(md, 'user_api_key_end_user_id'))},
     {'key': 'user', 'value': coalesce(nullif("user", ''), json_extract_string(md, 'user_api_key_user_id'))},
     {'key': 'team', 'value': coalesce(json_extract_string(md, 'user_api_key_team_alias'),
                                        json_extract_string(md, 'user_api_key_team_id'), nullif(team_id, ''))},
     {'key': 'key_alias', 'value': json_extract_string(md, 'user_api_key_alias')}])) AS metadata,
  CASE WHEN json_type(msgs) = 'ARRAY' OR json_type(msgs) = 'VARCHAR' THEN tcx_obj(json_object(
    'model', model,
    'messages', CASE WHEN json_type(msgs) = 'ARRAY' THEN msgs
                     ELSE json_array(json_object('role', 'user', 'content', msgs->>'$')) END,
    'tools', json_extract(params, 'tools')))
  END AS request,
  res AS response,
  _file AS source_file,
  _row AS source_row
FROM k
"""


READER = Reader(
    name="litellm",
    description="LiteLLM StandardLoggingPayload (JSONL, or one .json object per file as the "
                "S3/GCS loggers write) and SpendLogs rows",
    claims=claims,
    columns=COLUMNS,
    select=select,
    row_per_record=True,
)
