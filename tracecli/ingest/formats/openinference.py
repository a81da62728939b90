"""OpenInference spans: in OTLP JSON (the same envelope as tracecli.ingest.formats.otlp), and Phoenix
span exports (Parquet from `get_spans_dataframe()`, or JSON spans with `context`/`span_kind`).

Phoenix rows carry `context.trace_id`, `context.span_id`, `parent_id`, `name`, `span_kind`,
`start_time`, `end_time`, `status_code`, `status_message`, `events` and one `attributes.*`
column per attribute, message lists nested ([{"message.role": ..., "message.tool_calls":
[{"tool_call.function.name": ...}]}]). JSON spans hold the same under `context` and
`attributes` (dotted keys, or one level of nesting)."""

from __future__ import annotations

from tracecli.ingest.formats import otel_attributes as otel
from tracecli.ingest.formats import otlp
from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.sql.template import fill, ident, literal

OTLP_READER = Reader(
    name="openinference",
    description="OpenInference spans (openinference instrumentations, Arize Phoenix) in OTLP JSON",
    claims=otlp.claims_openinference,
    columns=otlp.COLUMNS,
    select=otlp.select,
)

# Attributes read from Phoenix's `attributes.<key>` columns.
ATTRIBUTES = [
    "openinference.span.kind", "llm.model_name", "llm.provider", "llm.system",
    "llm.token_count.prompt", "llm.token_count.completion", "llm.token_count.total",
    "llm.token_count.prompt_details.cache_read", "llm.cost.prompt", "llm.cost.completion",
    "llm.cost.total", "llm.input_messages", "llm.output_messages", "llm.tools",
    "llm.invocation_parameters", "input.value", "input.mime_type", "output.value",
    "output.mime_type", "tool.name", "tool.description", "tool.parameters", "tool_call.id",
    "tool_call.function.name", "tool_call.function.arguments", "session.id", "user.id",
    "metadata", "tag.tags", "embedding.model_name", "gen_ai.operation.name",
    "gen_ai.provider.name", "gen_ai.system", "gen_ai.request.model", "gen_ai.response.model",
    "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.tool.name",
    "gen_ai.tool.call.id", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
    "gen_ai.input.messages", "gen_ai.output.messages", "error.type",
]
_TEXT = ["context.trace_id", "context.span_id", "parent_id", "name", "span_kind", "start_time",
         "end_time", "status_code", "status_message"]
COLUMNS = {**{c: "VARCHAR" for c in _TEXT}, "context": "JSON", "attributes": "JSON",
           "events": "JSON", **{f"attributes.{k}": "JSON" for k in ATTRIBUTES}}


def claims_phoenix(k: Keys) -> str:
    """A span row (`context.span_id` and `span_kind`) or a JSON span with a `context` object."""
    row = fill("({{id}} AND {{kind}})", id=k.has("context.span_id"), kind=k.has("span_kind"))
    span = fill("""({{context}} AND json_exists({{v}}, '$.span_id') AND ({{kind}} OR {{attributes}})
  AND NOT {{otlp}})""", context=k.is_a("context", "OBJECT"), v=k.json("context"),
                kind=k.has("span_kind"), attributes=k.has("attributes"), otlp=k.has("resourceSpans"))
    return fill("({{row}} OR {{span}})", row=row, span=span)


# Phoenix's attribute columns as entries {key, value}, as the JSON spans' attributes become.
_COLUMN_ENTRIES = "[" + ", ".join(
    fill("{'key': {{key}}, 'value': {{column}}}", key=literal(k), column=ident("attributes." + k))
    for k in ATTRIBUTES) + "]"

_NORMALISE = fill("""
p0 AS (
  SELECT *,
    -- JSON spans: dotted keys, or objects one level deep ({"llm": {"model_name": ...}})
    CASE WHEN json_type(attributes) = 'OBJECT' THEN flatten(list_transform(json_keys(attributes),
      lambda k: CASE WHEN json_type(json_extract(attributes, k)) = 'OBJECT' AND k NOT IN ('metadata')
        THEN list_transform(json_keys(json_extract(attributes, k)),
               lambda k2: {'key': k || '.' || k2, 'value': json_extract(json_extract(attributes, k), k2)})
        ELSE [{'key': k, 'value': json_extract(attributes, k)}] END)) END AS obj_entries
  FROM src
),
p1 AS (
  SELECT *, list_concat(list_filter({{column_entries}}, lambda e: e.value IS NOT NULL
                                    AND json_type(e.value) <> 'NULL'),
                        coalesce(obj_entries, []),
                        [{'key': 'openinference.span.kind', 'value': to_json(span_kind)}]) AS es
  FROM p0
),
n AS (
  SELECT _row, _file,
    tcx_id(coalesce("context.trace_id", json_extract_string(context, 'trace_id'))) AS trace_id,
    tcx_id(coalesce("context.span_id", json_extract_string(context, 'span_id'))) AS span_id,
    tcx_id(parent_id) AS parent_span_id,
    name,
    tc_time(start_time) AS t0, tc_time(end_time) AS t1,
    coalesce(upper(status_code) LIKE '%ERROR%', false) AS status_error,
    status_message,
    json_extract_string(list_filter(json_extract(tcx_j(events), '$[*]'),
      lambda e: json_extract_string(e, 'name') = 'exception')[1], '$.attributes."exception.message"') AS exception,
    tcx_map(list_filter(es, lambda e: e.value IS NOT NULL AND json_type(e.value) <> 'NULL')) AS a,
    -- Phoenix keeps no resource or instrumentation scope with its spans
    NULL::JSON AS resource, NULL::JSON AS scope
  FROM p1
  WHERE coalesce("context.span_id", json_extract_string(context, 'span_id')) IS NOT NULL
)""", column_entries=_COLUMN_ENTRIES)


def _select_phoenix(options: ReadOptions) -> str:
    return otel.span_select(_NORMALISE)


PHOENIX_READER = Reader(
    name="phoenix",
    description="Arize Phoenix span exports (Parquet or JSON spans with context.span_id, "
                "span_kind, attributes.*)",
    claims=claims_phoenix,
    columns=COLUMNS,
    select=_select_phoenix,
)
