"""Quiet headers: `show` and `traces` carry the tags a user set, never what an instrumentation
recorded besides (resource attributes, instrumentation scope, framework attribute dumps), which
stay in the store for `show --full` and `show --format json`.

On a CrewAI run as real instrumentations record it (tests/fixtures/formats/build_framework.py):
exported by Langfuse after OpenTelemetry ingestion, and as OpenInference OTLP JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, StoreCache, Stored
from tests.test_formats import fixture_store, show_json, walk

LANGFUSE = ("langfuse/crewai_trace.json", "d5f2b0e18c4a5f3b0e6d9c8b7a6f5e4d")
OTLP = ("openinference/crewai_traces.jsonl", "c4e1a9d07b3f4e2a9d5c8b7a6f5e4d3c")
FRAMEWORK = [pytest.param(*LANGFUSE, id="langfuse"), pytest.param(*OTLP, id="otlp")]

# What the run's user set: `using_attributes(session_id=, user_id=, metadata=, tags=)`, and on
# Langfuse `langfuse.trace.metadata.team` too.
USER_TAGS = {"session_id": "crew-session-7", "user_id": "u_1001", "tags": "crewai,math",
             "env": "prod", "feature": "math-crew"}
LANGFUSE_TAGS = {**USER_TAGS, "team": "agents"}
# What the instrumentation recorded: resource, scope, CrewAI's dumps, other span attributes.
SYSTEM_WORDS = ["otel.", "resource", "scope", "attributes", "service.name", "telemetry.sdk",
                "process.", "host.name", "openinference", "crew_agents", "crew_tasks",
                "crew_key", "output.value", "input.value", "llm.", "Calculator", "backstory"]


def header(text: str) -> list[str]:
    """The lines above the tree: the trace's own label, wrapped."""
    lines = text.splitlines()
    first_branch = next((i for i, line in enumerate(lines) if line.startswith(("├", "└"))),
                        len(lines))
    return lines[:first_branch]


def assert_quiet(text: str) -> None:
    for word in SYSTEM_WORDS:
        assert word not in text, word


def expected_tags(path: str) -> dict[str, str]:
    return LANGFUSE_TAGS if path.startswith("langfuse") else USER_TAGS


@pytest.mark.parametrize(("path", "trace"), FRAMEWORK)
def test_header_fits_in_three_lines_with_the_users_tags_alone(
        cli: Invoke, stored: Stored, monkeypatch: pytest.MonkeyPatch, path: str, trace: str) -> None:
    fixture_store(stored, path)
    monkeypatch.setenv("COLUMNS", "200")
    result = cli("show", trace)
    assert result.exit_code == 0, result.stderr
    lines = header(result.stdout)
    assert 1 <= len(lines) <= 3, lines
    text = " ".join(lines)
    for key, value in expected_tags(path).items():
        assert f"{key}={value}" in text, (key, text)
    assert_quiet(text)
    assert "3 LLM calls · 1 tool call" in text  # the run itself still reads
    assert result.stdout.rstrip().endswith("answer: 3 to the fifth power is 243.")


@pytest.mark.parametrize(("path", "trace"), FRAMEWORK)
def test_traces_tags_are_the_users_alone(cli: Invoke, stored: Stored,
                                         monkeypatch: pytest.MonkeyPatch, path: str, trace: str) -> None:
    fixture_store(stored, path)
    listed = json.loads(cli("traces", "--format", "json").stdout)
    assert [t["trace_id"] for t in listed] == [trace]
    assert listed[0]["tags"] == expected_tags(path)
    assert show_json(cli, trace)["trace"]["tags"] == expected_tags(path)
    monkeypatch.setenv("COLUMNS", "400")
    table = cli("traces").stdout
    assert "env=prod" in table
    assert_quiet(table.split("\n", 1)[1])  # the rows (the heading names its `tags` column)


@pytest.mark.parametrize(("path", "trace"), FRAMEWORK)
def test_tag_filters_see_the_users_tags(cli: Invoke, stored: Stored, path: str, trace: str) -> None:
    fixture_store(stored, path)
    found = json.loads(cli("traces", "--tag", "feature=math-crew", "--format", "json").stdout)
    assert [t["trace_id"] for t in found] == [trace]


def _metadata(doc: dict[str, Any]) -> list[dict[str, str]]:
    return [n["metadata"] or {} for n in walk(doc["spans"])]


@pytest.mark.parametrize(("path", "trace"), FRAMEWORK)
def test_what_the_instrumentation_recorded_stays_for_json_and_full(
        cli: Invoke, stored: Stored, path: str, trace: str) -> None:
    fixture_store(stored, path)
    metadata = _metadata(show_json(cli, trace))
    root = metadata[0]
    resource = json.loads(root["otel.resource"])
    assert resource["service.name"] == "math-crew" and resource["process.pid"] == 48213
    assert json.loads(root["otel.scope"])["name"] == "openinference.instrumentation.crewai"
    attributes = json.loads(root["otel.attributes"])
    assert [a["role"] for a in json.loads(attributes["crew_agents"])] == ["Calculator", "Reporter"]
    assert len(json.loads(attributes["crew_tasks"])) == 2
    scopes = {json.loads(m["otel.scope"])["name"] for m in metadata}
    assert scopes == {"openinference.instrumentation.crewai", "openinference.instrumentation.litellm"}
    full = cli("show", trace, "--full").stdout
    body = full[len("\n".join(header(full))):]
    for word in ("otel.resource:", '"service.name":"math-crew"', "otel.scope:",
                 "openinference.instrumentation.litellm", "crew_agents", "crew_tasks"):
        assert word in body, word
    assert_quiet(" ".join(header(full)))
    assert body.count("otel.resource:") == 1  # shared by every span: shown where it changes


def _observation(**more: Any) -> dict[str, Any]:
    """One observation of a Langfuse export (an OTel span after ingestion)."""
    return {"id": "obs-1", "traceId": "lf-otel-1", "type": "SPAN", "name": "workflow",
            "startTime": "2025-03-04T10:15:02.123Z", "endTime": "2025-03-04T10:15:03.123Z",
            "metadata": {}, **more}


def _ingest(cli: Invoke, tmp_path: Path, records: list[dict[str, Any]]) -> None:
    path = tmp_path / "observations.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = cli("ingest", "--format", "langfuse", str(path))
    assert result.exit_code == 0, result.stderr


def test_langfuse_reads_traceloop_association_properties_and_user_keys(
        cli: Invoke, tmp_path: Path) -> None:
    """Traceloop's association properties ride among span attributes; a user's key that only
    looks like one of Langfuse's nested ones (`scopes`, `attribute`) is a tag like any other."""
    attributes = {"traceloop.span.kind": "workflow", "traceloop.entity.name": "plan",
                  "traceloop.association.properties.customer_id": "cust-9",
                  "traceloop.association.properties.plan": "pro",
                  "traceloop.workflow.name": "plan"}
    _ingest(cli, tmp_path, [_observation(metadata={
        "scopes": "billing", "attribute": "x", "attributes": attributes,
        "resourceAttributes": {"service.name": "planner"},
        "scope": {"name": "traceloop.tracer", "version": "0.40.2", "attributes": {}}})])
    tags = show_json(cli, "lf-otel-1")["trace"]["tags"]
    assert tags == {"customer_id": "cust-9", "plan": "pro", "scopes": "billing", "attribute": "x"}
    spans = json.loads(cli("spans", "--format", "json").stdout)
    assert json.loads(spans[0]["metadata"]["otel.attributes"]) == attributes


def test_langfuse_events_path_scope_attributes_are_kept_not_tags(cli: Invoke, tmp_path: Path) -> None:
    """Langfuse's events path nests `resourceAttributes` and `scopeAttributes` alone."""
    _ingest(cli, tmp_path, [_observation(metadata={
        "user_key": "kept", "resourceAttributes": {"service.name": "planner"},
        "scopeAttributes": {"public_key": "pk-lf-1"}})])
    tags = show_json(cli, "lf-otel-1")["trace"]["tags"]
    assert tags == {"user_key": "kept"}
    metadata = json.loads(cli("spans", "--format", "json").stdout)[0]["metadata"]
    assert json.loads(metadata["otel.scope.attributes"]) == {"public_key": "pk-lf-1"}
    assert json.loads(metadata["otel.resource"]) == {"service.name": "planner"}


def test_a_long_tag_value_is_cut_in_the_header_only(cli: Invoke, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    note = " ".join(["a note the user attached that runs on and on"] * 8)
    _ingest(cli, tmp_path, [_observation(metadata={"note": note})])
    monkeypatch.setenv("COLUMNS", "200")
    lines = header(cli("show", "lf-otel-1").stdout)
    assert len(lines) == 1 and "note=a note the user" in lines[0] and "…" in lines[0]
    assert show_json(cli, "lf-otel-1")["trace"]["tags"]["note"] == note


# --- OTLP JSON as the collector's file exporter writes it: the resource and scopes around spans

KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w"  # a key that leaked into the process's arguments


def _value(v: Any) -> dict[str, Any]:
    """An OTLP AnyValue."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": v}


def _attributes(**values: Any) -> list[dict[str, Any]]:
    """OTLP attributes; `__` in a name stands for a dot."""
    return [{"key": k.replace("__", "."), "value": _value(v)} for k, v in values.items()]


def _span(trace: str, span: str, parent: str, name: str, at: int, **attributes: Any) -> dict[str, Any]:
    start = 1741083302000000000 + at * 1000000
    return {"traceId": trace, "spanId": span, "parentSpanId": parent, "name": name, "kind": 1,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 500000),
            "attributes": _attributes(**attributes), "status": {}}


ENVELOPE = "0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
OLD_LIBRARY = "1e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
BARE = "2e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"
WORKFLOW = "3e1f2a3b4c5d6e7f8091a2b3c4d5e6f7"

RESOURCE = {"service.name": "billing-agent", "service.version": "1.2.0",
            "telemetry.sdk.name": "opentelemetry", "host.name": "worker-7.internal",
            "process.pid": 4242, "process.command_args": ["python", "-m", "billing", "--key", KEY]}
OPENAI_SCOPE = {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0",
                "attributes": {"scope.tier": "gold"}}


def _envelope_records() -> list[dict[str, Any]]:
    """A GenAI agent run (its spans under two scopes of one resource), an old file's
    `instrumentationLibrarySpans`, a bare span, and OpenLLMetry workflow and tool spans."""
    run = [_span(ENVELOPE, "a000000000000001", "", "invoke_agent billing", 0,
                 gen_ai__operation__name="invoke_agent", gen_ai__agent__name="billing",
                 gen_ai__conversation__id="conv-9",
                 traceloop__association__properties__customer_id="cust-3"),
           _span(ENVELOPE, "a000000000000002", "a000000000000001", "chat gpt-4o-mini", 1,
                 gen_ai__operation__name="chat", gen_ai__provider__name="openai",
                 gen_ai__request__model="gpt-4o-mini", gen_ai__usage__input_tokens=120,
                 gen_ai__usage__output_tokens=15, server__address="api.openai.com",
                 gen_ai__response__id="chatcmpl-1")]
    tool = [_span(ENVELOPE, "a000000000000003", "a000000000000001", "execute_tool lookup_invoice", 2,
                  gen_ai__operation__name="execute_tool", gen_ai__tool__name="lookup_invoice",
                  gen_ai__tool__call__id="call_1", gen_ai__tool__call__arguments='{"id": 7}',
                  gen_ai__tool__call__result="paid")]
    scopes = [{"scope": {**OPENAI_SCOPE, "attributes": _attributes(scope__tier="gold")}, "spans": run},
              {"scope": {"name": "billing.tools", "version": "0.3"}, "spans": tool}]
    resource = {"attributes": [{"key": k, "value": _value(v)} for k, v in RESOURCE.items()]}
    old = {"resourceSpans": [{"resource": {"attributes": _attributes(service__name="legacy")},
                              "instrumentationLibrarySpans": [{
                                  "instrumentationLibrary": {"name": "io.old.lib", "version": "0.9"},
                                  "spans": [_span(OLD_LIBRARY, "b000000000000001", "", "chat gpt-4o", 0,
                                                  gen_ai__operation__name="chat",
                                                  gen_ai__request__model="gpt-4o")]}]}]}
    bare = _span(BARE, "c000000000000001", "", "chat gpt-4o", 0, gen_ai__operation__name="chat",
                 gen_ai__request__model="gpt-4o", server__port=443)
    workflow = [_span(WORKFLOW, "d000000000000001", "", "plan.workflow", 0, traceloop__span__kind="workflow",
                      traceloop__entity__name="plan", traceloop__entity__input='{"question": "due?"}',
                      traceloop__entity__output='"yes"'),
                _span(WORKFLOW, "d000000000000002", "d000000000000001", "lookup.tool", 1,
                      traceloop__span__kind="tool", traceloop__entity__name="lookup",
                      traceloop__entity__input='{"args": [], "kwargs": {"id": 7}}',
                      traceloop__entity__output='"paid"')]
    return [{"resourceSpans": [{"resource": resource, "scopeSpans": scopes}]}, old, bare,
            {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "traceloop.tracer"}, "spans": workflow}]}]}]


@pytest.fixture
def envelope(stored: Stored, store_cache: StoreCache) -> None:
    stored("--format", "otlp", str(store_cache.file("otlp_envelope.jsonl", _envelope_records())))


def _by_name(cli: Invoke, trace: str) -> dict[str, dict[str, str]]:
    """The metadata of the trace's spans, by span name."""
    return {n["name"]: n["metadata"] or {} for n in walk(show_json(cli, trace)["spans"])}


def test_otlp_resource_and_scope_stay_out_of_the_header_and_tags(
        cli: Invoke, envelope: None, monkeypatch: pytest.MonkeyPatch) -> None:
    tags = {"session_id": "conv-9", "customer_id": "cust-3"}
    assert show_json(cli, ENVELOPE)["trace"]["tags"] == tags
    listed = {t["trace_id"]: t["tags"] or {} for t in json.loads(cli("traces", "--format", "json").stdout)}
    assert listed == {ENVELOPE: tags, OLD_LIBRARY: {}, BARE: {}, WORKFLOW: {}}
    monkeypatch.setenv("COLUMNS", "200")
    for args in (("show", ENVELOPE), ("show", ENVELOPE, "--full")):
        text = " ".join(header(cli(*args).stdout))
        assert "session_id=conv-9" in text and "customer_id=cust-3" in text
        for word in ("otel.", "billing-agent", "worker-7", "openai_v2", "gold", "api.openai.com"):
            assert word not in text, (args, word)
    rows = cli("traces").stdout.split("\n", 1)[1]
    assert "customer_id=cust-3" in rows and "billing-agent" not in rows and "otel." not in rows
    found = json.loads(cli("traces", "--tag", "customer_id=cust-3", "--format", "json").stdout)
    assert [t["trace_id"] for t in found] == [ENVELOPE]


def test_otlp_resource_scope_and_unread_attributes_show_in_json_and_full(cli: Invoke, envelope: None) -> None:
    spans = _by_name(cli, ENVELOPE)
    root, chat, tool = (spans[n] for n in ("invoke_agent billing", "chat gpt-4o-mini",
                                           "execute_tool lookup_invoice"))
    resource = json.loads(root["otel.resource"])
    assert {k: v for k, v in resource.items() if k != "process.command_args"} == {
        k: v for k, v in RESOURCE.items() if k != "process.command_args"}
    assert resource["process.command_args"][:4] == ["python", "-m", "billing", "--key"]
    assert all(m["otel.resource"] == root["otel.resource"] for m in (chat, tool))
    assert json.loads(root["otel.scope"]) == json.loads(chat["otel.scope"]) == OPENAI_SCOPE
    assert json.loads(tool["otel.scope"]) == {"name": "billing.tools", "version": "0.3", "attributes": {}}
    # what no column or tag took: the columns' attributes and the tags are not repeated
    assert json.loads(root["otel.attributes"]) == {"gen_ai.agent.name": "billing"}
    assert json.loads(chat["otel.attributes"]) == {"server.address": "api.openai.com",
                                                   "gen_ai.response.id": "chatcmpl-1"}
    assert "otel.attributes" not in tool
    full = cli("show", ENVELOPE, "--full").stdout
    body = full[len("\n".join(header(full))):]
    for word in ('otel.resource: {"service.name":"billing-agent"', '"process.pid":4242',
                 'otel.scope: {"name":"opentelemetry.instrumentation.openai_v2"', '"scope.tier":"gold"',
                 'otel.scope: {"name":"billing.tools"', '"server.address":"api.openai.com"'):
        assert word in body, word
    assert body.count("otel.resource:") == 1 and body.count("otel.scope:") == 2  # where they change


def test_otlp_resource_attributes_are_masked_like_all_metadata(cli: Invoke, envelope: None) -> None:
    exported = cli("spans", "--format", "jsonl").stdout
    assert KEY not in exported and KEY[:8] in exported  # masked, with the ends kept
    resource = json.loads(_by_name(cli, ENVELOPE)["invoke_agent billing"]["otel.resource"])
    assert "REDACTED" in resource["process.command_args"][4]


def test_otlp_older_and_bare_spans_keep_what_they_carry(cli: Invoke, envelope: None) -> None:
    old = _by_name(cli, OLD_LIBRARY)["chat gpt-4o"]
    assert json.loads(old["otel.scope"]) == {"name": "io.old.lib", "version": "0.9", "attributes": {}}
    assert json.loads(old["otel.resource"]) == {"service.name": "legacy"}
    bare = _by_name(cli, BARE)["chat gpt-4o"]  # a span without its envelope: no resource or scope
    assert bare == {"otel.attributes": '{"server.port":443}'}


def test_otlp_input_and_output_stay_where_no_column_took_them(cli: Invoke, envelope: None) -> None:
    spans = _by_name(cli, WORKFLOW)
    assert json.loads(spans["plan.workflow"]["otel.attributes"]) == {
        "traceloop.entity.input": '{"question": "due?"}', "traceloop.entity.output": '"yes"'}
    assert json.loads(spans["plan.workflow"]["otel.scope"]) == {"name": "traceloop.tracer", "attributes": {}}
    assert "otel.attributes" not in spans["lookup.tool"]  # its arguments and result columns hold them
    assert "otel.resource" not in spans["plan.workflow"]  # a resource without attributes
    tool = [s for s in json.loads(cli("spans", "--format", "json").stdout) if s["name"] == "lookup.tool"]
    assert tool[0]["tool_arguments"] == {"id": 7}
    assert tool[0]["tool_result"] == "paid"
