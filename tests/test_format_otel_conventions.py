"""OpenTelemetry spans in two more attribute conventions — OpenLLMetry (Traceloop) before 0.55
and the Langfuse OTel SDK — and cached-token attributes, through the real CLI: the reference
run reads the same from each (tests/fixtures/formats/build_otel_conventions.py writes them), and
each convention's other shapes are accepted."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import test_formats as formats
from tests.conftest import Invoke, Stored
from tests.fixtures.formats.build import attrs, traces_data
from tests.test_formats import REFERENCE_COST, fixture_store, llm_nodes, show_json
from tracecli.ingest.formats import shapes
from tracecli.sql import macros

# (format, fixture path, trace id, summary format name), as tests/test_formats.py's CASES
CASES = [
    ("openllmetry-langchain", "openllmetry/langchain_v0_54.jsonl", "1af92f3577b34da6a3ce929d0e0e473c", "otlp"),
    ("openllmetry-sdk", "openllmetry/sdk_openai_v0_30.jsonl", "2bf92f3577b34da6a3ce929d0e0e473d", "otlp"),
    ("langfuse-otel-v3", "langfuse_otel/langchain_v3_0.jsonl", "3cf92f3577b34da6a3ce929d0e0e473e", "otlp"),
    ("langfuse-otel-v4", "langfuse_otel/observe_v4.jsonl", "4df92f3577b34da6a3ce929d0e0e473f", "otlp"),
]
IDS = [c[0] for c in CASES]
# Langfuse 3.0's LangChain handler records tools as plain spans: no tool span to absorb
WITH_TOOL_SPANS = [c for c in CASES if c[0] != "langfuse-otel-v3"]
TRACE = "5ef92f3577b34da6a3ce929d0e0e4740"


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), CASES, ids=IDS)
def test_reference_run_reads_the_same(cli: Invoke, stored: Stored, case: str, path: str,
                                      trace: str, fmt: str) -> None:
    formats.test_reference_run_reads_the_same_from_every_format(cli, stored, case, path, trace, fmt)


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), WITH_TOOL_SPANS,
                         ids=[c[0] for c in WITH_TOOL_SPANS])
def test_tool_spans_are_shown_once_inside_their_calls(cli: Invoke, stored: Stored, case: str,
                                                      path: str, trace: str, fmt: str) -> None:
    formats.test_agent_span_contains_the_llm_calls_and_tool_calls(cli, stored, case, path, trace, fmt)


@pytest.mark.parametrize(("case", "source"), [("openllmetry-langchain", "computed"),
                                              ("openllmetry-sdk", "computed"),
                                              ("langfuse-otel-v3", "computed"),
                                              ("langfuse-otel-v4", "logged")])
def test_costs_are_logged_by_langfuse_and_priced_otherwise(cli: Invoke, stored: Stored,
                                                           case: str, source: str) -> None:
    _, path, trace, _ = next(c for c in CASES if c[0] == case)
    fixture_store(stored, path)
    tree = show_json(cli, trace)
    assert {n["cost_source"] for n in llm_nodes(tree)} == {source}
    assert tree["trace"]["cost_usd"] == pytest.approx(REFERENCE_COST, rel=1e-3)


@pytest.mark.parametrize(("case", "expected"), [
    ("openllmetry-langchain", {"env": "prod", "user_id": "u_1001", "session_id": "session-42",
                               "workflow": "AgentExecutor"}),
    ("openllmetry-sdk", {"env": "prod", "user_id": "u_1001", "session_id": "session-42",
                         "workflow": "math_agent"}),
    ("langfuse-otel-v3", {"env": "prod", "user_id": "u_1001", "session_id": "session-42",
                          "tags": "math-agent", "environment": "production", "version": "v0.3.1"}),
    ("langfuse-otel-v4", {"env": "prod", "user_id": "u_1001", "session_id": "session-42",
                          "tags": "math-agent", "trace_name": "math-agent"}),
])
def test_user_tags_reach_the_trace(cli: Invoke, stored: Stored, case: str,
                                   expected: dict[str, str]) -> None:
    """Association properties and Langfuse trace / observation metadata are tags; LangChain's
    ls_* keys and the callback arguments Langfuse copies into tool metadata are not."""
    _, path, trace, _ = next(c for c in CASES if c[0] == case)
    fixture_store(stored, path)
    tags = show_json(cli, trace)["trace"]["tags"]
    assert tags == expected
    header = cli("show", trace).stdout.splitlines()[0]
    assert "user_id=u_1001" in header


# ---------------------------------------------------------------- shapes through `spans --from`

def span(name: str, values: dict[str, Any], span_id: str = "5e00000000000001",
         parent: str = "", status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"traceId": TRACE, "spanId": span_id, "parentSpanId": parent, "name": name, "kind": 3,
            "startTimeUnixNano": "1741083302123000000", "endTimeUnixNano": "1741083302813000000",
            "attributes": attrs(values), "status": status or {}}


def read_spans(cli: Invoke, tmp_path: Path, *spans: dict[str, Any]) -> list[dict[str, Any]]:
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps(traces_data(list(spans))) + "\n")
    result = cli("spans", "--from", str(path), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def flat_prompts(prefix: str, count: int) -> dict[str, Any]:
    return {k: v for i in range(count) for k, v in ((f"{prefix}.{i}.role", "user" if i % 2 else "system"),
                                                     (f"{prefix}.{i}.content", f"message {i}"))}


@pytest.mark.parametrize("count", [11, 12, 23])
@pytest.mark.parametrize(("prompts", "completions"), [("gen_ai.prompt", "gen_ai.completion"),
                                                      ("llm.prompts", "llm.completions")])
def test_prompt_indices_order_numerically(cli: Invoke, tmp_path: Path, count: int, prompts: str,
                                          completions: str) -> None:
    """Message 10 comes after 9 however the exporter ordered the attributes."""
    values = list(flat_prompts(prompts, count).items())
    random.Random(count).shuffle(values)
    calls = {f"{completions}.0.tool_calls.{j}.{k}": v for j in range(count)
             for k, v in (("id", f"call_{j}"), ("name", "multiply"), ("arguments", "{}"))}
    [row] = read_spans(cli, tmp_path, span("openai.chat", {
        "llm.request.type": "chat", **dict(values), f"{completions}.0.role": "assistant", **calls}))
    assert [m["content"] for m in row["request"]["messages"]] == [f"message {i}" for i in range(count)]
    asked = row["response"]["choices"][0]["message"]["tool_calls"]
    assert [c["id"] for c in asked] == [f"call_{j}" for j in range(count)]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    macros.install(c)
    shapes.install(c)
    return c


@settings(max_examples=60, deadline=None)
@given(order=st.lists(st.integers(0, 40), min_size=1, max_size=40, unique=True))
def test_flattened_messages_keep_numeric_order(con: duckdb.DuckDBPyConnection, order: list[int]) -> None:
    """Any set of indices, the keys in any order, gives the messages sorted by index."""
    attributes = {f"gen_ai.prompt.{i}.content": f"m{i}" for i in order}
    row = con.execute("SELECT tcx_tl_msgs(CAST(?::JSON AS MAP(VARCHAR, JSON)), 'gen_ai.prompt')",
                      [json.dumps(attributes)]).fetchone()
    assert row is not None
    assert [m["content"] for m in json.loads(row[0])] == [f"m{i}" for i in sorted(order)]


@pytest.mark.parametrize(("values", "cached", "written"), [
    ({"gen_ai.usage.cache_read.input_tokens": 64}, 64, None),
    ({"gen_ai.usage.cache_read_input_tokens": 64}, 64, None),  # OpenLLMetry up to 0.54
    ({"llm.token_count.prompt_details.cache_read": 64,
      "llm.token_count.prompt_details.cache_write": 32}, 64, 32),
    ({"gen_ai.usage.cache_read.input_tokens": 64, "gen_ai.usage.cache_creation.input_tokens": 32}, 64, 32),
    ({"gen_ai.usage.cache_creation_input_tokens": 32}, None, 32),
])
def test_cached_prompt_tokens(cli: Invoke, tmp_path: Path, values: dict[str, Any], cached: int | None,
                              written: int | None) -> None:
    """Cache reads fill cached_tokens (and price at the cached rate); cache writes, which have no
    column, stay in the stored usage."""
    [row] = read_spans(cli, tmp_path, span("chat gpt-4o-mini", {
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 200, "gen_ai.usage.output_tokens": 10, **values}))
    assert row["prompt_tokens"] == 200 and row["cached_tokens"] == cached
    usage = (row["response"] or {}).get("usage", {})
    assert usage.get("cache_creation_input_tokens") == written
    full_price = (200 * 0.15 + 10 * 0.60) / 1e6
    assert row["cost_source"] == "computed"
    uncached = (200 - (cached or 0)) * 0.15 / 1e6 + 10 * 0.60 / 1e6
    assert row["cost_usd"] == pytest.approx(uncached + (cached or 0) * 0.075 / 1e6)
    assert (row["cost_usd"] < full_price * 0.99) == (cached is not None)


@pytest.mark.parametrize(("usage", "prompt", "completion", "cached", "written"), [
    # the LangChain handler subtracts what it breaks out of input / output
    ({"input": 136, "output": 10, "total": 210, "input_cache_read": 64, "output_reasoning": 0}, 200, 10, 64, None),
    ({"input": 100, "output": 10, "input_cached_tokens": 100}, 200, 10, 100, None),
    # Anthropic's own keys: input leaves out cache reads and writes
    ({"input": 104, "output": 10, "cache_read_input_tokens": 64, "cache_creation_input_tokens": 32},
     200, 10, 64, 32),
    # OpenAI usage passed through as it is
    ({"prompt_tokens": 200, "completion_tokens": 10, "total_tokens": 210,
      "prompt_tokens_details": {"cached_tokens": 64}}, 200, 10, 64, None),
])
def test_langfuse_usage_details(cli: Invoke, tmp_path: Path, usage: dict[str, Any], prompt: int,
                                completion: int, cached: int | None, written: int | None) -> None:
    [row] = read_spans(cli, tmp_path, span("ChatAnthropic", {
        "langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.input": json.dumps([{"role": "user", "content": "hi"}]),
        "langfuse.observation.output": json.dumps({"role": "assistant", "content": "hello"}),
        "langfuse.observation.usage_details": json.dumps(usage)}))
    assert (row["prompt_tokens"], row["completion_tokens"], row["cached_tokens"]) == (prompt, completion, cached)
    assert row["response"]["usage"].get("cache_creation_input_tokens") == written
    assert row["response"]["choices"][0]["message"] == {"role": "assistant", "content": "hello"}


def test_langfuse_errors_costs_and_tool_messages(cli: Invoke, tmp_path: Path) -> None:
    """level ERROR is an error with its status message; cost_details without a total is summed;
    a tool's output as a serialised ToolMessage gives its content and call id."""
    failed, tool = read_spans(cli, tmp_path, span("ChatOpenAI", {
        "langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.level": "ERROR", "langfuse.observation.status_message": "Rate limit reached",
        "langfuse.observation.usage_details": json.dumps({"input": 10, "output": 0}),
        "langfuse.observation.cost_details": json.dumps({"input": 0.25, "output": 0.5})}),
        span("exponentiate", {
            "langfuse.observation.type": "tool",
            "langfuse.observation.input": json.dumps({"base": 3, "exponent": 5}),
            "langfuse.observation.output": json.dumps({"content": "243", "type": "tool", "name": "exponentiate",
                                                       "tool_call_id": "call_9", "status": "success"})},
            span_id="5e00000000000002"))
    assert failed["status"] == "error" and failed["error"] == "Rate limit reached"
    assert failed["cost_usd"] == pytest.approx(0.75) and failed["cost_source"] == "logged"
    assert (tool["kind"], tool["tool_name"], tool["tool_call_id"], tool["tool_result"]) == (
        "tool", "exponentiate", "call_9", "243")
    assert tool["tool_arguments"] == {"base": 3, "exponent": 5}


def test_openllmetry_before_0_20_and_function_calls(cli: Invoke, tmp_path: Path) -> None:
    """`llm.prompts` / `llm.completions`, `llm.usage.*`, `llm.request.model`, `llm.vendor`, a
    completion prompt (`.user`), the single `function_call` of early completions, and a tool
    called with positional arguments."""
    chat, completion, tool = read_spans(cli, tmp_path, span("openai.chat", {
        "llm.request.type": "chat", "llm.vendor": "OpenAI", "llm.request.model": "gpt-4o-mini",
        "llm.prompts.0.role": "user", "llm.prompts.0.content": json.dumps([
            {"type": "text", "text": "What is 3 * 4?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]),
        "llm.completions.0.role": "assistant", "llm.completions.0.finish_reason": "function_call",
        "llm.completions.0.function_call.name": "multiply",
        "llm.completions.0.function_call.arguments": '{"first_int": 3, "second_int": 4}',
        "llm.usage.prompt_tokens": 20, "llm.usage.completion_tokens": 5, "llm.usage.total_tokens": 25}),
        span("openai.completion", {
            "llm.request.type": "completion", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.prompt.0.user": "Say hi", "gen_ai.completion.0.content": "hi",
            "gen_ai.usage.prompt_tokens": 2, "gen_ai.usage.completion_tokens": 1}, span_id="5e00000000000002"),
        span("multiply.tool", {
            "traceloop.span.kind": "tool", "traceloop.entity.name": "multiply",
            "traceloop.entity.input": json.dumps({"args": [3, 4], "kwargs": {}}),
            "traceloop.entity.output": "12"}, span_id="5e00000000000003"))
    assert (chat["kind"], chat["provider"], chat["model"]) == ("llm", "OpenAI", "gpt-4o-mini")
    assert (chat["prompt_tokens"], chat["completion_tokens"], chat["total_tokens"]) == (20, 5, 25)
    assert chat["request"]["messages"] == [{"role": "user", "content": "What is 3 * 4?"}]
    message = chat["response"]["choices"][0]["message"]
    assert message["tool_calls"] == [{"type": "function", "function": {
        "name": "multiply", "arguments": '{"first_int": 3, "second_int": 4}'}}]
    assert completion["request"]["messages"] == [{"role": "user", "content": "Say hi"}]
    assert completion["response"]["choices"][0]["message"] == {"role": "assistant", "content": "hi"}
    assert (tool["kind"], tool["tool_name"], tool["tool_result"]) == ("tool", "multiply", "12")
    assert tool["tool_arguments"] == {"args": [3, 4], "kwargs": {}}  # no names to give them


def test_openllmetry_langchain_tool_messages(cli: Invoke, tmp_path: Path) -> None:
    """The LangChain instrumentation's tool span: its ToolMessage output (LangChain's to_json())
    gives the result and the call id; a single object argument is the arguments."""
    [tool] = read_spans(cli, tmp_path, span("execute_tool lookup", {
        "traceloop.span.kind": "tool", "traceloop.entity.name": "lookup",
        "traceloop.entity.input": json.dumps({"input_str": "{'city': 'Oslo'}", "tags": [],
                                              "metadata": {}, "inputs": None, "kwargs": {}}),
        "traceloop.entity.output": json.dumps({"output": {
            "lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "ToolMessage"],
            "kwargs": {"content": "rainy", "tool_call_id": "call_7", "type": "tool"}}, "kwargs": {}})}))
    assert (tool["tool_call_id"], tool["tool_result"]) == ("call_7", "rainy")
    assert tool["tool_arguments"] == {"city": "Oslo"}


def test_langfuse_v3_json_encoded_values(cli: Invoke, tmp_path: Path) -> None:
    """langfuse 3.0 JSON-encodes strings too: they read as the text, not as quoted JSON."""
    [gen] = read_spans(cli, tmp_path, span("generation", {
        "langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.input": json.dumps("What is 2 + 2?"),
        "langfuse.observation.output": json.dumps("4"),
        "langfuse.observation.metadata.team": json.dumps("agents"),
        "langfuse.trace.metadata.tier": json.dumps(["gold", "beta"])}))
    assert gen["request"]["messages"] == [{"role": "user", "content": "What is 2 + 2?"}]
    assert gen["response"]["choices"][0]["message"]["content"] == "4"
    tags = {k: v for k, v in gen["metadata"].items() if not macros.is_system_key(k)}
    assert tags == {"team": "agents", "tier": "gold,beta"}


def test_langfuse_observe_generation(cli: Invoke, tmp_path: Path) -> None:
    """An @observe(as_type="generation") function: its input is {"args", "kwargs"} holding the
    messages, its output the ChatCompletion it returned."""
    completion = {"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
                  "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": "4"}}],
                  "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13}}
    [gen] = read_spans(cli, tmp_path, span("call_llm", {
        "langfuse.observation.type": "generation", "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.input": json.dumps({"args": [], "kwargs": {
            "messages": [{"role": "user", "content": "What is 2 + 2?"}]}}),
        "langfuse.observation.output": json.dumps(completion),
        "langfuse.observation.usage_details": json.dumps(completion["usage"])}))
    assert gen["request"]["messages"] == [{"role": "user", "content": "What is 2 + 2?"}]
    assert gen["response"]["choices"][0]["message"]["content"] == "4"
    assert (gen["prompt_tokens"], gen["completion_tokens"], gen["total_tokens"]) == (12, 1, 13)
