"""Portkey gateway log exports (JSONL rows, single-log objects, both field spellings)."""

from __future__ import annotations

from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill, ident, literal

# Row fields as Portkey names them in its log export ("Available Export Fields" at
# https://portkey.ai/docs/product/observability/logs-export) and in its logs API, which nests
# the per-request figures of one log under `metrics`; scalars are read as text and cast leniently.
_TEXT = [
    "id", "_id", "trace_id", "span_id", "span_name", "parent_span_id", "created_at",
    "is_success", "response_status_code", "status_code", "response_time", "ai_org",
    "ai_provider", "ai_model", "request_url", "req_units", "res_units", "total_units",
    "request_tokens", "response_tokens", "total_tokens", "cost", "cost_currency",
    "cache_status", "cache_type", "retry_success_count", "mode", "prompt_slug",
]
_JSON = ["metadata", "metadata.key", "metadata.value", "request", "response", "request.body",
         "response.body", "metrics"]
COLUMNS = {**{c: "VARCHAR" for c in _TEXT}, **{c: "JSON" for c in _JSON}}

_MARKERS = {"ai_model", "ai_org", "ai_provider", "req_units", "res_units", "response_time",
            "cache_status", "retry_success_count", "is_success", "total_units"}


def claims(k: Keys) -> str:
    """Two of Portkey's own fields, at the top or inside `metrics`."""
    markers = sorted(_MARKERS)
    top = ", ".join(fill("CASE WHEN {{has}} THEN {{name}} END", has=k.has(m), name=literal(m))
                    for m in markers)
    return fill("""len(list_distinct(list_concat(list_filter([{{top}}], lambda m: m IS NOT NULL),
  CASE WHEN {{object}} THEN list_intersect(json_keys({{metrics}}), {{markers}}) ELSE [] END))) >= 2""",
                top=top, object=k.is_a("metrics", "OBJECT"), metrics=k.json("metrics"),
                markers="[" + ", ".join(literal(m) for m in markers) + "]")


def _field(name: str) -> str:
    """A row field, or the same field inside `metrics` (the single-log API shape)."""
    return fill("coalesce({{column}}, metrics->>{{key}})", column=ident(name), key=literal(name))


# Fields read from the row or from `metrics`, each a hole of the mapping below.
_EITHER_PLACE = (
    "id", "trace_id", "span_id", "span_name", "parent_span_id", "created_at", "is_success",
    "response_status_code", "status_code", "response_time", "ai_org", "ai_provider", "ai_model",
    "request_url", "req_units", "res_units", "total_units", "request_tokens", "response_tokens",
    "total_tokens", "cost", "cache_status", "retry_success_count",
)

_SELECT = fill(r"""
WITH p AS (
  SELECT *,
    coalesce({{id}}, "_id") AS rid,
    -- bodies: a plain body, an envelope {url, method, headers, body}, or a JSON string
    -- (the substring test spares a parse of every body that is not an envelope)
    tc_json(coalesce("request.body",
      CASE WHEN contains(CAST(request AS VARCHAR), 'body"') AND json_exists(request, '$.body')
                AND NOT json_exists(request, '$.messages')
           THEN request->'body' ELSE request END)) AS req,
    tc_json(coalesce("response.body",
      CASE WHEN contains(CAST(response AS VARCHAR), 'body"') AND json_exists(response, '$.body')
                AND NOT json_exists(response, '$.choices')
           THEN response->'body' ELSE response END)) AS res,
    tc_int32(coalesce({{response_status_code}}, {{status_code}}, response->>'status')) AS http,
    tc_bool({{is_success}}) AS ok_flag,
    coalesce({{request_url}}, request->>'url', '') AS url
  FROM src
), k AS (
  -- the key reads raw columns only, so the key-only first pass of an ingest skips the mapping
  SELECT *, coalesce(rid, md5(concat_ws('|', CAST(coalesce("request.body", request) AS VARCHAR),
                                        CAST(coalesce("response.body", response) AS VARCHAR),
                                        {{created_at}}, {{trace_id}}))) AS rk,
    -- one parse of the response for every field read from it
    json_extract(res, ['$.object', '$.error', '$.usage']) AS rx,
    -- named once: written twice, DuckDB would compute the body lookups for every row
    coalesce({{ai_model}}, res->>'model', req->>'model') AS mdl
  FROM p
)
SELECT
  'portkey:' || rk AS record_key,
  coalesce({{trace_id}}, rk) AS trace_id,
  coalesce({{span_id}}, rk) AS span_id,
  {{parent_span_id}} AS parent_span_id,
  coalesce({{span_name}},
    CASE WHEN url LIKE '%embeddings%' THEN 'embeddings' ELSE 'chat' END
      || coalesce(' ' || mdl, '')) AS name,
  CASE WHEN url LIKE '%embeddings%' OR rx[1]->>'$' = 'list' THEN 'embedding' ELSE 'llm' END AS kind,
  tc_time({{created_at}}) AS start_time,
  tc_num(coalesce({{response_time}}, response->>'responseTime')) AS duration_ms,
  coalesce({{ai_org}}, {{ai_provider}}) AS provider,
  mdl AS model,
  CASE WHEN ok_flag IS NOT NULL THEN (CASE WHEN ok_flag THEN 'ok' ELSE 'error' END)
       WHEN http IS NOT NULL THEN (CASE WHEN http < 400 THEN 'ok' ELSE 'error' END)
       WHEN rx[2] IS NOT NULL THEN 'error' ELSE 'ok' END AS status,
  http AS http_status,
  CASE WHEN rx[2] IS NOT NULL THEN coalesce(rx[2]->>'message', tc_text(rx[2])) END AS error,
  coalesce(tc_tokens(coalesce({{req_units}}, {{request_tokens}})), tc_tokens(rx[3]->>'prompt_tokens'), tc_tokens(rx[3]->>'input_tokens')) AS prompt_tokens,
  coalesce(tc_tokens(coalesce({{res_units}}, {{response_tokens}})), tc_tokens(rx[3]->>'completion_tokens'), tc_tokens(rx[3]->>'output_tokens')) AS completion_tokens,
  tc_tokens(coalesce(rx[3]->'prompt_tokens_details'->>'cached_tokens', rx[3]->'input_tokens_details'->>'cached_tokens')) AS cached_tokens,
  coalesce(tc_tokens(coalesce({{total_units}}, {{total_tokens}})), tc_tokens(rx[3]->>'total_tokens')) AS total_tokens,
  tc_num({{cost}}) / {{divisor}} AS cost_usd,
  CASE WHEN tc_num({{cost}}) IS NOT NULL THEN 'logged' END AS cost_source,
  upper({{cache_status}}) AS cache_status,
  tc_int32({{retry_success_count}}) AS retries,
  -- dropping NULL-valued tags walks every map with a lambda; only a body saying null needs it
  coalesce(
    CASE WHEN contains(CAST(coalesce(metadata, metrics->'metadata') AS VARCHAR), 'null')
         THEN tc_clean_map(tc_map(coalesce(metadata, metrics->'metadata')))
         ELSE tc_map(coalesce(metadata, metrics->'metadata')) END,
    tc_clean_map(CASE WHEN json_type("metadata.key") = 'ARRAY'
         THEN TRY(map(json_transform("metadata.key", '["VARCHAR"]'),
                      json_transform("metadata.value", '["VARCHAR"]'))) END)) AS metadata,
  req AS request,
  res AS response,
  _file AS source_file,
  _row AS source_row
FROM k
""", keep=("divisor",), **{name: _field(name) for name in _EITHER_PLACE})


def select(options: ReadOptions) -> str:
    return fill(_SELECT, divisor="100.0" if options.portkey_cost_unit == "cents" else "1.0")


READER = Reader(
    name="portkey",
    description="Portkey gateway log exports (JSONL rows or single-log objects)",
    claims=claims,
    columns=COLUMNS,
    select=select,
    row_per_record=True,
)
