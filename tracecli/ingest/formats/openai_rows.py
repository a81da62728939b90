"""Generic gateway rows: any record carrying an OpenAI request body and response body."""

from __future__ import annotations

from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill, literal

_TEXT = ["id", "request_id", "trace_id", "span_id", "parent_span_id", "name", "timestamp",
         "created_at", "start_time", "latency_ms", "duration_ms", "provider", "model", "cost",
         "cost_usd", "status", "error", "cache_status", "retries"]
_JSON = ["request", "response", "metadata", "tags"]
COLUMNS = {**{c: "VARCHAR" for c in _TEXT}, **{c: "JSON" for c in _JSON}}


def _body_with(k: Keys, key: str, fields: list[str]) -> str:
    """SQL: the key holds a JSON object (or JSON text of one) with any of `fields`."""
    return fill(_BODY_WITH, v=k.json(key), fields="[" + ", ".join(literal(f) for f in fields) + "]")


_BODY_WITH = """coalesce(len(list_intersect(json_keys(CASE json_type({{v}}) WHEN 'OBJECT' THEN {{v}}
  WHEN 'VARCHAR' THEN CASE WHEN json_type(TRY_CAST({{v}}->>'$' AS JSON)) = 'OBJECT'
                           THEN TRY_CAST({{v}}->>'$' AS JSON) END END), {{fields}})) > 0, false)"""


def claims(k: Keys) -> str:
    """An OpenAI request body, and a response body or none."""
    return fill("({{request}} AND ({{response}} OR NOT {{answered}}))",
                request=_body_with(k, "request", ["input", "messages", "model"]),
                response=_body_with(k, "response", ["choices", "data", "error", "output", "usage"]),
                answered=k.has("response"))


def select(options: ReadOptions) -> str:
    return """
WITH g AS (
  SELECT *, tc_json(request) AS req, tc_json(response) AS res,
         coalesce(id, request_id) AS rid FROM src
), k AS (
  SELECT *, coalesce(rid, md5(concat_ws('|', CAST(req AS VARCHAR), CAST(res AS VARCHAR),
                                        timestamp, created_at, start_time, trace_id))) AS rk
  FROM g
)
SELECT
  'openai:' || rk AS record_key,
  coalesce(trace_id, rk) AS trace_id,
  coalesce(span_id, rk) AS span_id,
  parent_span_id,
  coalesce(name, CASE WHEN json_exists(req, '$.input') AND NOT json_exists(req, '$.messages')
                           AND res->>'object' = 'list' THEN 'embeddings' ELSE 'chat' END
                 || coalesce(' ' || coalesce(model, req->>'model'), '')) AS name,
  CASE WHEN res->>'object' = 'list' THEN 'embedding' ELSE 'llm' END AS kind,
  tc_time(coalesce(start_time, timestamp, created_at)) AS start_time,
  tc_num(coalesce(duration_ms, latency_ms)) AS duration_ms,
  provider,
  coalesce(model, res->>'model', req->>'model') AS model,
  CASE WHEN lower(status) IN ('error', 'failure', 'failed') OR error IS NOT NULL
         OR json_exists(res, '$.error') THEN 'error' ELSE 'ok' END AS status,
  CASE WHEN tc_int(status) BETWEEN 100 AND 599 THEN tc_int(status) END AS http_status,
  coalesce(error, res->'error'->>'message') AS error,
  tc_tokens(coalesce(res->'usage'->>'prompt_tokens', res->'usage'->>'input_tokens')) AS prompt_tokens,
  tc_tokens(coalesce(res->'usage'->>'completion_tokens', res->'usage'->>'output_tokens')) AS completion_tokens,
  tc_tokens(coalesce(res->'usage'->'prompt_tokens_details'->>'cached_tokens', res->'usage'->'input_tokens_details'->>'cached_tokens')) AS cached_tokens,
  tc_tokens(res->'usage'->>'total_tokens') AS total_tokens,
  tc_num(coalesce(cost_usd, cost)) AS cost_usd,
  CASE WHEN tc_num(coalesce(cost_usd, cost)) IS NOT NULL THEN 'logged' END AS cost_source,
  upper(cache_status) AS cache_status,
  tc_int32(retries) AS retries,
  tc_clean_map(coalesce(tc_map(metadata), tc_map(tags))) AS metadata,
  req AS request,
  res AS response,
  _file AS source_file,
  _row AS source_row
FROM k
"""


READER = Reader(
    name="openai",
    description="Generic gateway rows: {trace_id, request: <OpenAI body>, response: <OpenAI body>, ...}",
    claims=claims,
    columns=COLUMNS,
    select=select,
    row_per_record=True,
)
