"""OTLP JSON, as the OpenTelemetry Collector's file exporter writes it.

Each line is a TracesData ({"resourceSpans": [{"scopeSpans": [{"spans": [...]}]}]}; very old
files say `instrumentationLibrarySpans`) or a LogsData ({"resourceLogs": [... "logRecords"]}).
A bare JSON array (or JSONL) of OTLP span objects is read too. Ids are hex (base64 and 0x-prefixed
ids are converted), times are nanosecond numbers or decimal strings, attribute values are
AnyValues. Span attributes follow the GenAI semantic conventions or OpenInference (tracecli.ingest.formats.otel_attributes).
The resource's attributes and the instrumentation scope (`instrumentationLibrary` in old files)
go with each of their spans into `n`, and from there into its metadata under `otel.*` keys.

Log records carrying GenAI message content (event `gen_ai.client.inference.operation.details`,
or the older per-message events `gen_ai.{system,user,assistant,tool}.message` / `gen_ai.choice`)
become `content` rows, joined to their span by trace and span id (tracecli.ingest.detached_content).
"""

from __future__ import annotations

import json

from tracecli.ingest.formats import otel_attributes as otel
from tracecli.ingest.formats.base import Keys, Reader, ReadOptions
from tracecli.ingest.formats.shapes import KV_LIST
from tracecli.sql.template import fill, literal

_JSON = ["resourceSpans", "resourceLogs", "attributes", "status", "events", "startTimeUnixNano",
         "endTimeUnixNano", "start_time_unix_nano", "end_time_unix_nano"]
_TEXT = ["traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id", "name"]
COLUMNS = {**{c: "JSON" for c in _JSON}, **{c: "VARCHAR" for c in _TEXT}}

_OI_MARKERS = ("openinference.span.kind", "llm.model_name", "llm.input_messages", "llm.token_count")


def _shape(k: Keys) -> str:
    """TracesData or LogsData, or a bare span: ids, and nanosecond times or an attribute list."""
    envelope = fill("({{spans}} OR {{logs}})", spans=k.is_a("resourceSpans", "ARRAY"),
                    logs=k.is_a("resourceLogs", "ARRAY"))
    span = fill("({{ids}} AND ({{times}} OR {{attributes}}))", ids=k.has("traceId", "trace_id"),
                times=k.has("startTimeUnixNano", "start_time_unix_nano"),
                attributes=k.is_a("attributes", "ARRAY"))
    return fill("({{envelope}} OR {{span}})", envelope=envelope, span=span)


def _mentions_openinference(k: Keys) -> str:
    found = " OR ".join(fill("contains(CAST({{v}} AS VARCHAR), {{marker}})", v=k.json(key),
                             marker=literal(f'"{marker}'))
                        for key in ("resourceSpans", "attributes") for marker in _OI_MARKERS)
    return fill("coalesce({{found}}, false)", found=found)


def claims(k: Keys) -> str:
    """OTLP (but for OpenInference's, which its reader claims)."""
    return fill("({{shape}} AND NOT {{oi}})", shape=_shape(k), oi=_mentions_openinference(k))


def claims_openinference(k: Keys) -> str:
    """OTLP whose spans carry OpenInference attributes."""
    return fill("({{shape}} AND {{oi}})", shape=_shape(k), oi=_mentions_openinference(k))


# One parse of each TracesData line: its resources, scopes and spans as typed lists (json_transform)
# rather than JSON text extracted again at every level and for every field. Values that need
# their JSON form (times, status, events, attributes) stay JSON.
_SPAN_FIELDS = {**{key: "VARCHAR" for key in ("traceId", "trace_id", "spanId", "span_id", "parentSpanId",
                                               "parent_span_id", "name")},
                **{key: "JSON" for key in ("startTimeUnixNano", "start_time_unix_nano", "endTimeUnixNano",
                                           "end_time_unix_nano", "status", "events")},
                "attributes": json.loads(KV_LIST)}
_SCOPE_SPANS = {"scope": "JSON", "instrumentationLibrary": "JSON", "spans": [_SPAN_FIELDS]}
_RESOURCE_SPANS = [{"resource": {"attributes": "JSON"}, "scopeSpans": [_SCOPE_SPANS],
                    "instrumentationLibrarySpans": [_SCOPE_SPANS]}]

# The resource and the instrumentation scope, converted once a scope (not a span): their
# attributes in one list, whose entries then part at the resource's count.
_SPANS = fill("""
rs AS (SELECT _row, _file, unnest(json_transform(resourceSpans, {{structure}})) AS r
       FROM src WHERE resourceSpans IS NOT NULL),
ss0 AS (SELECT _row, _file, json_extract(r.resource.attributes, '$[*]') AS res_list,
          unnest(list_concat(r.scopeSpans, r.instrumentationLibrarySpans)) AS s
        FROM rs),
ss1 AS (SELECT *, coalesce(s.scope, s.instrumentationLibrary) AS sc,
          coalesce(len(res_list), 0) AS n_res
        FROM ss0),
ss2 AS (SELECT *, tcx_kv_entries(to_json(list_concat(coalesce(res_list, []::JSON[]),
          coalesce(json_extract(sc, '$.attributes[*]'), []::JSON[])))) AS env
        FROM ss1),
-- the scope as Langfuse's OpenTelemetry ingestion keeps it: {name, version, attributes}
ss AS (SELECT _row, _file, s, to_json(tcx_map(env[:n_res])) AS resource,
         CASE WHEN json_type(sc) = 'OBJECT' THEN tcx_obj(json_object(
           'name', json_extract_string(sc, 'name'), 'version', json_extract_string(sc, 'version'),
           'attributes', to_json(tcx_map(env[n_res + 1:])))) END AS scope
       FROM ss2),
sp AS (
  SELECT _row, _file, resource, scope, unnest(s.spans) AS j FROM ss
  UNION ALL
  SELECT _row, _file, NULL::JSON, NULL::JSON, {
    'traceId': coalesce(traceId, trace_id), 'trace_id': NULL::VARCHAR, 'spanId': coalesce(spanId, span_id),
    'span_id': NULL::VARCHAR, 'parentSpanId': coalesce(parentSpanId, parent_span_id), 'parent_span_id': NULL::VARCHAR,
    'name': name, 'startTimeUnixNano': coalesce(startTimeUnixNano, start_time_unix_nano),
    'start_time_unix_nano': NULL::JSON, 'endTimeUnixNano': coalesce(endTimeUnixNano, end_time_unix_nano),
    'end_time_unix_nano': NULL::JSON, 'status': status, 'events': events,
    'attributes': json_transform(attributes, {{kv_list}})}
  FROM src WHERE resourceSpans IS NULL AND resourceLogs IS NULL AND coalesce(traceId, trace_id) IS NOT NULL
),
n0 AS (
  SELECT _row, _file,
    tcx_id(coalesce(j.traceId, j.trace_id)) AS trace_id,
    tcx_id(coalesce(j.spanId, j.span_id)) AS span_id,
    tcx_id(coalesce(j.parentSpanId, j.parent_span_id)) AS parent_span_id,
    j.name AS name,
    tc_time(coalesce(j.startTimeUnixNano, j.start_time_unix_nano)) AS t0,
    tc_time(coalesce(j.endTimeUnixNano, j.end_time_unix_nano)) AS t1,
    j.status AS st,
    j.events AS evs,
    tcx_kv_list(j.attributes) AS es,
    resource, scope
  FROM sp
),
n1 AS (
  SELECT *, list_filter(json_extract(evs, '$[*]'),
                        lambda e: json_extract_string(e, 'name') = 'exception')[1] AS exc_event
  FROM n0
),
n AS (
  SELECT _row, _file, trace_id, span_id, parent_span_id, name, t0, t1,
    coalesce(tc_int(json_extract(st, 'code')) = 2, false)
      OR coalesce(upper(json_extract_string(st, 'code')) LIKE '%ERROR%', false) AS status_error,
    json_extract_string(st, 'message') AS status_message,
    list_filter(json_extract(exc_event, '$.attributes[*]'),
                lambda kv: json_extract_string(kv, 'key') = 'exception.message')[1]
      ->'value'->>'stringValue' AS exception,
    coalesce(tcx_map(es), MAP {}::MAP(VARCHAR, JSON)) AS a,
    resource, scope
  FROM n1
  WHERE trace_id IS NOT NULL AND span_id IS NOT NULL
)""", keep=(), structure=literal(json.dumps(_RESOURCE_SPANS, separators=(",", ":"))),
   kv_list=literal(KV_LIST))


# Log records with GenAI message content, one `content` row per span they describe.
_CONTENT = """
WITH rl AS (SELECT _row, _file, unnest(json_extract(resourceLogs, '$[*]')) AS r
            FROM src WHERE resourceLogs IS NOT NULL),
sl AS (SELECT _row, _file, unnest(list_concat(json_extract(r, '$.scopeLogs[*]'),
                                              json_extract(r, '$.instrumentationLibraryLogs[*]'))) AS s
       FROM rl),
lr AS (SELECT _row, _file, unnest(json_extract(s, '$.logRecords[*]')) AS j FROM sl),
l0 AS (
  SELECT _row, _file, row_number() OVER () AS seq,
    tcx_id(json_extract_string(j, 'traceId')) AS trace_id,
    tcx_id(json_extract_string(j, 'spanId')) AS span_id,
    tc_time(coalesce(json_extract(j, 'timeUnixNano'), json_extract(j, 'observedTimeUnixNano'))) AS t,
    json_extract_string(j, 'eventName') AS event_name,
    tcx_kv_entries(json_extract(j, 'attributes')) AS es,
    tcx_av(json_extract(j, 'body')) AS body
  FROM lr
),
l1 AS (SELECT *, coalesce(tcx_map(es), MAP {}::MAP(VARCHAR, JSON)) AS a FROM l0),
l AS (SELECT *, coalesce(nullif(event_name, ''), tcx_s(a, 'event.name')) AS ev FROM l1
      WHERE trace_id IS NOT NULL AND span_id IS NOT NULL),
details AS (
  SELECT trace_id, span_id, t, _file, _row,
    tcx_genai_system(a['gen_ai.system_instructions']) AS sys_text,
    tcx_genai_msgs(a['gen_ai.input.messages']) AS in_msgs,
    tcx_genai_choices(a['gen_ai.output.messages']) AS choices,
    tcx_tools(a['gen_ai.tool.definitions']) AS tools
  FROM l WHERE ev = 'gen_ai.client.inference.operation.details'
),
per_message AS (
  SELECT trace_id, span_id, min(t) AS t, min(_file) AS _file, min(_row) AS _row,
    list(CASE WHEN ev = 'gen_ai.tool.message' THEN tcx_obj(json_object('role', 'tool',
                'tool_call_id', json_extract_string(body, 'id'),
                'content', tc_content(json_extract(body, 'content'))))
              ELSE tcx_obj(json_object('role', split_part(ev, '.', 2),
                'content', tc_content(json_extract(body, 'content')),
                'tool_calls', tcx_calls(json_extract(body, 'tool_calls')))) END
         ORDER BY t, seq) FILTER (WHERE ev IN ('gen_ai.system.message', 'gen_ai.user.message',
                                 'gen_ai.assistant.message', 'gen_ai.tool.message')) AS msgs,
    list(tcx_obj(json_object('index', coalesce(tc_int(json_extract(body, 'index')), 0),
                             'finish_reason', json_extract_string(body, 'finish_reason'),
                             'message', tcx_obj(json_object(
                               'role', coalesce(json_extract_string(body, '$.message.role'), 'assistant'),
                               'content', tc_content(json_extract(body, '$.message.content')),
                               'tool_calls', tcx_calls(json_extract(body, '$.message.tool_calls'))))))
         ORDER BY t, seq) FILTER (WHERE ev = 'gen_ai.choice') AS chs
  FROM l WHERE ev LIKE 'gen_ai.%.message' OR ev = 'gen_ai.choice'
  GROUP BY trace_id, span_id
),
content AS (
  SELECT trace_id, span_id, t, _file, _row, 1 AS pref,
    CASE WHEN in_msgs IS NOT NULL THEN tcx_obj(json_object('messages', CASE WHEN sys_text IS NOT NULL
      THEN to_json(list_concat([json_object('role', 'system', 'content', sys_text)], json_extract(in_msgs, '$[*]')))
      ELSE in_msgs END, 'tools', tools)) END AS request,
    CASE WHEN choices IS NOT NULL THEN json_object('choices', choices) END AS response
  FROM details
  UNION ALL
  SELECT trace_id, span_id, t, _file, _row, 2,
    CASE WHEN len(msgs) > 0 THEN json_object('messages', to_json(msgs)) END,
    CASE WHEN len(chs) > 0 THEN json_object('choices', to_json(chs)) END
  FROM per_message
)
SELECT
  'otel-content:' || trace_id || ':' || span_id || ':' || pref AS record_key,
  trace_id, span_id, 'content' AS kind, t AS start_time, request, response,
  _file AS source_file, _row AS source_row
FROM content WHERE request IS NOT NULL OR response IS NOT NULL
"""


_SELECT = fill("SELECT * FROM ({{spans}}) UNION ALL BY NAME SELECT * FROM ({{content}})",
               spans=otel.span_select(_SPANS), content=_CONTENT)


def select(options: ReadOptions) -> str:
    """Spans and content rows (the OpenInference reader reads the same envelope)."""
    return _SELECT


READER = Reader(
    name="otlp",
    description="OpenTelemetry OTLP JSON (collector file exporter, or a span array) with GenAI "
                "semantic conventions; GenAI content log records joined to their spans",
    claims=claims,
    columns=COLUMNS,
    select=select,
)
