"""`replay --endpoint`: re-executing recorded requests against a local OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.conftest import REFERENCE_TRACE, Invoke, reply_json, serving

STEPS = [("exponentiate", {"base": 3, "exponent": 5}), ("multiply", {"first_int": 243, "second_int": 36}),
         ("exponentiate", {"base": 8748, "exponent": 2})]


class FakeModel(BaseHTTPRequestHandler):
    """Answers like the recorded agent, except that its final answer is worded differently."""

    received: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeModel.received.append((self.path, dict(self.headers), body))
        done = sum(1 for m in body["messages"] if m.get("role") == "tool")
        if done < len(STEPS):
            name, args = STEPS[done]
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_live{done}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}]}
        else:
            message = {"role": "assistant", "content": "It is 76527504."}
        reply_json(self, {"id": "x", "object": "chat.completion", "model": body["model"],
                          "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                          "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    FakeModel.received = []
    with serving(FakeModel) as url:
        yield url


def test_reexecute_compares_each_call(cli: Invoke, sample_store: None, endpoint: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-123")
    result = cli("replay", REFERENCE_TRACE, "--endpoint", endpoint, "--each-call", "--format", "json")
    assert result.exit_code == 0, result.stderr
    calls = json.loads(result.stdout)
    assert [c["call_number"] for c in calls] == [1, 2, 3, 4]
    assert [c["same_tools"] for c in calls] == [True, True, True, True]
    assert [c["same_text"] for c in calls] == [True, True, True, False]
    assert calls[0]["live"]["tools"] == ["exponentiate(base=3, exponent=5)"]
    assert calls[3]["live"]["text"] == "It is 76527504."
    assert calls[3]["recorded"]["text"].endswith("is 76,527,504.")
    paths = {path for path, _, _ in FakeModel.received}
    assert paths == {"/v1/chat/completions"}
    _, headers, body = FakeModel.received[1]
    assert headers["Authorization"] == "Bearer test-key-123"
    assert body["stream"] is False and body["model"] == "gpt-4o-mini"
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool"]


def test_reexecute_with_other_model_in_a_table(cli: Invoke, sample_store: None, endpoint: str) -> None:
    result = cli("replay", REFERENCE_TRACE, "--endpoint", endpoint, "--each-call", "--model", "local-llama")
    assert result.exit_code == 0, result.stderr
    assert "local-llama" in result.stdout and "differs" in result.stdout
    assert {body["model"] for _, _, body in FakeModel.received} == {"local-llama"}


def test_unreachable_endpoint_is_one_line(cli: Invoke, sample_store: None) -> None:
    result = cli("replay", REFERENCE_TRACE, "--endpoint", "http://127.0.0.1:9/v1", "--timeout", "2")
    assert result.exit_code == 7
    assert result.stderr.startswith("tracecli: error: endpoint http://127.0.0.1:9/v1")
    assert len(result.stderr.strip().splitlines()) == 1
