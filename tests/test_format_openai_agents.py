"""OpenAI Agents SDK traces through the real CLI: the reference run as the SDK's exporter POSTs
it and as its items are written one per line (tests/fixtures/formats/build_openai_agents.py)
reads like every other format; a failed run shows its errors, the trace's group id is the
session, a Responses-model run keeps its usage, and a stream mixing these items with Portkey
logs and feedback reads each record right."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import test_formats as formats
from tests.conftest import SAMPLE_FEEDBACK, SAMPLE_JSONL, Invoke, Stored
from tests.test_formats import (
    FORMATS,
    REFERENCE_CALLS,
    TOTAL_TOKENS,
    fixture_store,
    llm_nodes,
    show_json,
    walk,
)

BODY = "openai_agents/ingest_body.json"
ITEMS = "openai_agents/items.jsonl"
RESPONSES = "openai_agents/responses_bodies.jsonl"
BODY_TRACE = "trace_639301ed886854a038d7e219cd0bf4d4"
ITEMS_TRACE = "trace_413321b8f0f49c944592326c4e16b79c"
FAILED_TRACE = "trace_8b44fe710894933b9f6c1c203d18bca7"
RESPONSES_TRACE = "trace_243573d6c3a35a3efe4f87af4f0393d0"
GROUP = "thread_7f3a2c91e4b0"

CASES = [("openai-agents-body", BODY, BODY_TRACE, "openai-agents"),
         ("openai-agents-items", ITEMS, ITEMS_TRACE, "openai-agents")]


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), CASES, ids=[c[0] for c in CASES])
def test_reference_run_reads_the_same_as_every_format(
        cli: Invoke, stored: Stored, case: str, path: str, trace: str, fmt: str) -> None:
    formats.test_reference_run_reads_the_same_from_every_format(cli, stored, case, path, trace, fmt)


def test_agent_span_contains_the_llm_calls_and_tool_calls(cli: Invoke, stored: Stored) -> None:
    """SDK v0.10–0.13: the agent span is the root."""
    formats.test_agent_span_contains_the_llm_calls_and_tool_calls(
        cli, stored, *CASES[0])


def test_task_span_holds_the_agent_and_turns_fold_away(cli: Invoke, stored: Stored) -> None:
    """A current SDK's run: a task span (the run) holds the agent span; the turn spans between
    it and the calls are folded, and every tool span is shown inside the call that asked for it."""
    fixture_store(stored, ITEMS)
    tree = show_json(cli, ITEMS_TRACE)
    assert len(tree["spans"]) == 1
    task = tree["spans"][0]
    assert (task["kind"], task["name"]) == ("chain", "Math agent")
    [agent] = task["children"]
    assert (agent["kind"], agent["name"]) == ("agent", "Math Assistant")
    assert agent["duration_ms"] > 3000
    assert [c["kind"] for c in agent["children"]] == ["llm"] * 4
    assert not [n for n in walk(tree["spans"]) if n["kind"] == "tool"]
    assert all(c["tool_span_id"] for n in agent["children"] for c in n["tool_calls"])
    every = walk(show_json(cli, ITEMS_TRACE, "--all-spans")["spans"])
    assert [n["name"] for n in every if n["kind"] == "chain"] == [
        "Math agent", "turn 1", "turn 2", "turn 3", "turn 4"]


def test_error_spans_show_as_errors(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, ITEMS)
    tree = show_json(cli, FAILED_TRACE)
    assert tree["trace"]["status"] == "error" and tree["trace"]["errors"] == 3
    first, second = llm_nodes(tree)
    assert first["status"] == "ok" and second["status"] == "error"
    assert second["error"].startswith("Error getting response: Error code: 429")
    [call] = first["tool_calls"]
    assert call["name"] == "multiply" and "calculator service unavailable" in call["result"]
    agent = next(n for n in walk(tree["spans"]) if n["kind"] == "agent")
    assert agent["status"] == "error" and agent["error"].startswith("Error in agent run: ")
    text = cli("show", FAILED_TRACE).stdout
    assert "error: Error getting response" in text
    every = walk(show_json(cli, FAILED_TRACE, "--all-spans")["spans"])
    assert "guardrail math_only" in [n["name"] for n in every]


def test_group_id_is_the_session_and_trace_metadata_tags_every_span(
        cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, ITEMS)
    listed = json.loads(cli("traces", "--tag", f"session_id={GROUP}", "--format", "json").stdout)
    assert {t["trace_id"] for t in listed} == {ITEMS_TRACE, FAILED_TRACE}
    tags = listed[0]["tags"]
    assert tags["session_id"] == GROUP and tags["workflow_name"] == "Math agent"
    assert tags["env"] == "prod" and tags["team"] == "agents"
    spans = [json.loads(line) for line in cli("spans", "--trace", ITEMS_TRACE, "--format",
                                              "jsonl").stdout.splitlines()]
    assert len(spans) == 13 and all(s["metadata"]["session_id"] == GROUP for s in spans)


def test_responses_model_keeps_usage_without_bodies(cli: Invoke, stored: Stored) -> None:
    """ResponseSpanData.export() carries response_id and usage only: the calls count their
    tokens, unpriced (no model is logged), and the function spans stand as tool calls."""
    summary = fixture_store(stored, RESPONSES)
    assert re.search(r"\d+ openai-agents\b", summary), summary
    tree = show_json(cli, RESPONSES_TRACE)
    calls = llm_nodes(tree)
    assert len(calls) == 4 and {n["cost_source"] for n in calls} == {"unpriced"}
    assert tree["trace"]["prompt_tokens"] == 754 and tree["trace"]["completion_tokens"] == 84
    assert tree["trace"]["total_tokens"] == TOTAL_TOKENS and tree["trace"]["tool_calls"] == 3
    tools = [n for n in walk(tree["spans"]) if n["kind"] == "tool"]
    assert [(c["name"], c["arguments"], c["result"]) for n in tools for c in n["tool_calls"]] \
        == REFERENCE_CALLS


def test_a_mixed_stream_reads_every_record_right(cli: Invoke) -> None:
    stream = b"".join(p.read_bytes() for p in (FORMATS / ITEMS, SAMPLE_JSONL, SAMPLE_FEEDBACK))
    result = cli("ingest", "-", input=stream)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"\b3 feedback\b", result.stderr), result.stderr
    assert re.search(r"\b21 openai-agents\b", result.stderr), result.stderr
    portkey = len(SAMPLE_JSONL.read_text().splitlines())
    assert re.search(rf"\b{portkey} portkey\b", result.stderr), result.stderr
    assert llm_nodes(show_json(cli, ITEMS_TRACE))[3]["output"].endswith(formats.ANSWER_END)
    reference = show_json(cli, "trc_7f3a2c91e4b0")
    assert reference["trace"]["feedback_count"] == 1
    assert [(c["name"], c["arguments"], c["result"]) for n in llm_nodes(reference)
            for c in n["tool_calls"]] == REFERENCE_CALLS


def test_forced_format_reads_a_post_body(cli: Invoke) -> None:
    result = cli("ingest", "--format", "openai-agents", str(FORMATS / BODY))
    assert result.exit_code == 0, result.stderr
    assert show_json(cli, BODY_TRACE)["trace"]["llm_calls"] == 4


def _span(trace: str, sid: str, parent: str | None, second: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"object": "trace.span", "id": sid, "trace_id": trace, "parent_id": parent,
            "started_at": f"2025-03-04T10:15:0{second}.000000+00:00",
            "ended_at": f"2025-03-04T10:15:0{second}.500000+00:00", "span_data": data, "error": None}


def _response(model: str, output: dict[str, Any], p: int, c: int) -> dict[str, Any]:
    """A Responses API object as `Response.model_dump()` writes it (the fields read here)."""
    return {"id": f"resp_{p}", "object": "response", "model": model, "output": [output],
            "usage": {"input_tokens": p, "output_tokens": c, "total_tokens": p + c,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}


ASKED = {"type": "function_call", "id": "fc_1", "call_id": "call_s1", "name": "exponentiate",
         "arguments": '{"base": 3, "exponent": 5}', "status": "completed"}
SAID = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
        "content": [{"type": "output_text", "text": "3 to the fifth power is 243.", "annotations": []}]}
TOOL = {"type": "function", "name": "exponentiate", "input": '{"base": 3, "exponent": 5}',
        "output": "243", "mcp_data": None}


def test_streamed_generations_and_kept_responses_meet_their_tool_spans(
        cli: Invoke, tmp_path: Path) -> None:
    """A streamed chat-completions generation logs the Responses API object the stream built as
    its output (openai_chatcompletions.py); a processor may keep a response span's Response and
    input. Either way the calls carry their model and usage, and meet their tool spans."""
    streamed, kept = "trace_" + "5" * 32, "trace_" + "6" * 32
    question = [{"role": "user", "content": "Take 3 to the fifth power"}]
    items = [
        _span(streamed, "span_s1", None, 1, {"type": "generation", "input": question,
              "output": [_response("gpt-4o-mini", ASKED, 50, 10)], "model": "gpt-4o-mini",
              "usage": {"input_tokens": 50, "output_tokens": 10}}),
        _span(streamed, "span_s2", None, 2, TOOL),
        _span(streamed, "span_s3", None, 3, {"type": "generation", "model": "gpt-4o-mini",
              "input": [*question, {"role": "assistant", "content": None, "tool_calls": [
                  {"id": "call_s1", "type": "function", "function": {
                      "name": "exponentiate", "arguments": ASKED["arguments"]}}]},
                  {"role": "tool", "tool_call_id": "call_s1", "content": "243"}],
              "output": [_response("gpt-4o-mini", SAID, 70, 12)],
              "usage": {"input_tokens": 70, "output_tokens": 12}}),
        _span(kept, "span_k1", None, 1, {"type": "response", "response_id": "resp_50",
              "response": _response("gpt-4o-mini-2024-07-18", ASKED, 50, 10), "input": question}),
        _span(kept, "span_k2", None, 2, TOOL),
    ]
    path = tmp_path / "agents.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    tree = show_json(cli, streamed)
    first, second = llm_nodes(tree)
    assert (first["model"], first["prompt_tokens"], first["cost_source"]) == ("gpt-4o-mini", 50, "computed")
    assert [(c["name"], c["result"], c["tool_span_id"]) for c in first["tool_calls"]] == [
        ("exponentiate", "243", "span_s2")]
    assert tree["answer"] == "3 to the fifth power is 243."
    [call] = llm_nodes(show_json(cli, kept))
    assert (call["model"], call["prompt_tokens"], call["completion_tokens"]) == (
        "gpt-4o-mini-2024-07-18", 50, 10)
    assert [(c["arguments"], c["tool_span_id"]) for c in call["tool_calls"]] == [
        ({"base": 3, "exponent": 5}, "span_k2")]
