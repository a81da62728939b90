"""Tool calls in every body shape tracecli reads (chat completions, the Responses API, Anthropic
messages), joined to their results when a trace is shown, and counted alike at ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLE_JSONL, Invoke, Stored
from tests.test_formats import fixture_store, show_json, walk


def _row(n: int, trace: str, request: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{trace}-{n}", "trace_id": trace, "created_at": f"2025-05-01T10:00:0{n}Z",
            "ai_org": "test", "ai_model": "m-1", "response_time": 100, "req_units": 10,
            "res_units": 5, "request": request, "response": response}


RESPONSES_API = [
    _row(1, "resp-trace", {"input": [{"role": "user", "content": "3^5, and 243*36?"}]},
         {"object": "response", "output": [
             {"type": "reasoning", "summary": []},
             {"type": "function_call", "call_id": "fc_1", "name": "exponentiate",
              "arguments": "{\"base\": 3, \"exponent\": 5}"},
             {"type": "function_call", "call_id": "fc_2", "name": "multiply",
              "arguments": "{\"first_int\": 243, \"second_int\": 36}"}]}),
    _row(2, "resp-trace", {"input": [
             {"role": "user", "content": "3^5, and 243*36?"},
             {"type": "function_call", "call_id": "fc_1", "name": "exponentiate", "arguments": "{}"},
             {"type": "function_call_output", "call_id": "fc_1", "output": "243"},
             {"type": "function_call_output", "call_id": "fc_2", "output": "8748"}]},
         {"object": "response", "output": [
             {"type": "message", "content": [{"type": "output_text", "text": "243 and 8748."}]}]}),
]

ANTHROPIC = [
    _row(1, "claude-trace", {"messages": [{"role": "user", "content": "3^5?"}]},
         {"type": "message", "role": "assistant", "content": [
             {"type": "text", "text": "Let me compute that."},
             {"type": "tool_use", "id": "toolu_1", "name": "exponentiate",
              "input": {"base": 3, "exponent": 5}}]}),
    _row(2, "claude-trace", {"messages": [
             {"role": "user", "content": "3^5?"},
             {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
                                                 "name": "exponentiate", "input": {}}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                           "content": [{"type": "text", "text": "243"}]}]}]},
         {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "243."}]}),
]

NO_CALLS = [  # tool call lists that are empty or null ask for nothing
    _row(1, "empty-trace", {"messages": [{"role": "user", "content": "hi"}]},
         {"object": "chat.completion", "choices": [{"message": {"content": "hi", "tool_calls": []}}]}),
    _row(2, "empty-trace", {"messages": [{"role": "user", "content": "hi"}]},
         {"object": "chat.completion", "choices": [{"message": {"content": "x", "tool_calls": None}}]}),
]


def _ingest(cli: Invoke, tmp_path: Path, rows: list[dict[str, Any]], *more: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("ingest", str(path), *map(str, more))
    assert result.exit_code == 0, result.stderr


def _calls(trace: str, cli: Invoke) -> list[tuple[str, Any, str | None]]:
    tree = show_json(cli, trace)
    return [(c["name"], c["arguments"], c["result"]) for n in walk(tree["spans"]) for c in n["tool_calls"]]


def test_responses_api_calls_meet_their_outputs(cli: Invoke, tmp_path: Path) -> None:
    _ingest(cli, tmp_path, RESPONSES_API)
    assert _calls("resp-trace", cli) == [
        ("exponentiate", {"base": 3, "exponent": 5}, "243"),
        ("multiply", {"first_int": 243, "second_int": 36}, "8748")]
    shown = cli("show", "resp-trace").stdout
    assert "tool exponentiate(base=3, exponent=5) → 243" in shown
    assert "tool multiply(first_int=243, second_int=36) → 8748" in shown


def test_anthropic_tool_use_meets_its_tool_result(cli: Invoke, tmp_path: Path) -> None:
    _ingest(cli, tmp_path, ANTHROPIC)
    assert _calls("claude-trace", cli) == [("exponentiate", {"base": 3, "exponent": 5}, "243")]


def test_empty_and_null_call_lists_ask_for_nothing(cli: Invoke, tmp_path: Path) -> None:
    _ingest(cli, tmp_path, NO_CALLS)
    assert _calls("empty-trace", cli) == []


def test_every_trace_lists_as_many_tool_calls_as_it_shows(cli: Invoke, stored: Stored,
                                                          tmp_path: Path) -> None:
    """Ingest counts tool calls without joining them; `show` joins them. Over every format
    (tool spans matched by id and by order included), the two agree."""
    fixture_store(stored, ".")  # every format fixture, as test_formats ingests the directory
    _ingest(cli, tmp_path, RESPONSES_API + ANTHROPIC + NO_CALLS, SAMPLE_JSONL)
    listed = json.loads(cli("traces", "--format", "json", "--limit", "0").stdout)
    assert len(listed) > 20 and sum(t["tool_calls"] for t in listed) > 40
    for trace in listed:
        assert trace["tool_calls"] == len(_calls(trace["trace_id"], cli)), trace["trace_id"]
