"""`replay --endpoint`: the agent run again against a scripted OpenAI-compatible server on
127.0.0.1, recorded tool results fed back, to the first divergence; retries, the deadline, an
endpoint that is down, secrets, and the stored replay trace read by `show` and `diff`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REFERENCE_TRACE, SAMPLE_JSONL, Invoke, reply_json, serving

ANSWER = ("The result of taking 3 to the fifth power, multiplying that by thirty six, and then "
          "squaring the result is 76,527,504.")
RECORDED = [("exponentiate", {"base": 3, "exponent": 5}),
            ("multiply", {"first_int": 243, "second_int": 36}),
            ("exponentiate", {"base": 8748, "exponent": 2})]
TIMES_63 = [RECORDED[0], ("multiply", {"first_int": 243, "second_int": 63}), RECORDED[2]]


class Scripted(BaseHTTPRequestHandler):
    """Answers as `calls` says at each turn (by the tool results sent so far), then `ANSWER`;
    `before` may answer a request first (a 429, a drip). Keeps what it received."""

    calls: list[tuple[str, dict[str, Any]]] = RECORDED
    before: Callable[[Scripted, int], bool] | None = None
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        Scripted.received.append((dict(self.headers), raw))
        if Scripted.before is not None and Scripted.before(self, len(Scripted.received)):
            return
        body = json.loads(raw)
        done = sum(1 for m in body["messages"] if m.get("role") == "tool")
        if done < len(Scripted.calls):
            name, args = Scripted.calls[done]
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_live{done}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}]}
        else:
            message = {"role": "assistant", "content": ANSWER}
        reply_json(self, {"id": "x", "object": "chat.completion", "model": body["model"],
                          "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                          "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Scripted.calls, Scripted.before, Scripted.received = RECORDED, None, []
    with serving(Scripted) as url:
        yield url


def bodies() -> list[dict[str, Any]]:
    return [json.loads(raw) for _, raw in Scripted.received]


def replay_json(cli: Invoke, *args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("replay", REFERENCE_TRACE, "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def test_identical_run_is_the_same_path(cli: Invoke, sample_store: None, server: str) -> None:
    code, doc, stderr = replay_json(cli, "--endpoint", server)
    assert code == 0, stderr
    assert doc["same_path"] is True and doc["divergence"] is None
    assert [s["status"] for s in doc["steps"]] == ["same"] * 4
    assert doc["steps"][1]["replayed"]["calls"] == ["multiply(first_int=243, second_int=36)"]
    assert doc["steps"][3]["replayed"]["text"] == ANSWER
    assert doc["steps"][0]["tool_results"] == [
        {"call": "exponentiate(base=3, exponent=5)", "result": "243", "source": "recorded"}]
    assert doc["totals"]["calls"] == {"recorded": 4, "replayed": 4, "change": 0, "change_pct": 0.0}
    assert doc["totals"]["tokens"]["recorded"] == 838 and doc["totals"]["tokens"]["replayed"] == 440
    assert doc["steps"][0]["replayed_usage"]["cost_usd"] > 0  # priced for the model asked
    assert doc["replay_trace_id"].startswith("rpl_")
    # the conversation the agent built: the recorded results, fed back under the live call ids
    last = bodies()[-1]["messages"]
    assert [m["role"] for m in last] == ["system", "user"] + ["assistant", "tool"] * 3
    assert [m["content"] for m in last if m["role"] == "tool"] == ["243", "8748", "76527504"]
    assert [m["tool_call_id"] for m in last if m["role"] == "tool"] == [
        "call_live0", "call_live1", "call_live2"]


def test_other_arguments_at_step_2_diverge(cli: Invoke, sample_store: None, server: str) -> None:
    Scripted.calls = TIMES_63
    code, doc, _ = replay_json(cli, "--endpoint", server)
    assert code == 1
    assert doc["same_path"] is False
    d = doc["divergence"]
    assert d["step"] == 2 and d["kind"] == "arguments"
    assert d["recorded"]["calls"] == ["multiply(first_int=243, second_int=36)"]
    assert d["replayed"]["calls"] == ["multiply(first_int=243, second_int=63)"]
    assert [s["status"] for s in doc["steps"]] == ["same", "diverged", "not_sent", "not_sent"]
    assert len(Scripted.received) == 2  # stopped there
    Scripted.received = []
    table = cli("replay", REFERENCE_TRACE, "--endpoint", server)
    assert table.exit_code == 1
    assert "first divergence at step 2: different arguments" in table.stdout
    assert "multiply(first_int=243, second_int=36)" in table.stdout
    assert "multiply(first_int=243, second_int=63)" in table.stdout
    markdown = cli("replay", REFERENCE_TRACE, "--endpoint", server, "--format", "markdown")
    assert markdown.exit_code == 1
    assert "| 2 | diverged | multiply(first_int=243, second_int=36) | multiply(first_int=243, second_int=63) |" in markdown.stdout


def test_continue_on_divergence_is_counterfactual(cli: Invoke, sample_store: None, server: str) -> None:
    Scripted.calls = TIMES_63
    code, doc, _ = replay_json(cli, "--endpoint", server, "--continue-on-divergence")
    assert code == 1
    assert [s["status"] for s in doc["steps"]] == ["same", "diverged", "counterfactual", "counterfactual"]
    assert doc["steps"][1]["tool_results"] == [
        {"call": "multiply(first_int=243, second_int=63)", "result": None, "source": None}]
    assert doc["steps"][2]["tool_results"][0]["result"] == "76527504"  # recorded elsewhere in the run
    tools = [m["content"] for m in bodies()[-1]["messages"] if m["role"] == "tool"]
    assert tools == ["243", "(no recorded result)", "76527504"]


def test_429_and_503_are_retried_with_backoff(cli: Invoke, sample_store: None, server: str) -> None:
    def refuse(handler: Scripted, n: int) -> bool:
        if n > 2:
            return False
        handler.send_response(429 if n == 1 else 503)
        if n == 1:
            handler.send_header("Retry-After", "1")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return True

    Scripted.before = refuse
    started = time.monotonic()
    code, doc, stderr = replay_json(cli, "--endpoint", server)
    assert code == 0, stderr
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert doc["steps"][0]["replayed_usage"]["retries"] == 2
    assert doc["totals"]["retries"]["replayed"] == 2
    assert len(Scripted.received) == 6
    show = cli("show", doc["replay_trace_id"], "--format", "json")
    assert json.loads(show.stdout)["spans"][0]["retries"] == 2


@pytest.mark.parametrize("where", ["head", "body"])
def test_a_dripping_server_is_cut_by_the_deadline(cli: Invoke, sample_store: None, server: str,
                                                  where: str) -> None:
    gone = threading.Event()

    def drip(handler: Scripted, n: int) -> bool:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        if where == "body":
            handler.wfile.write(head)
        for i in range(40):  # bounded: at most 20 s, and over as soon as the test is
            if gone.wait(0.5):
                break
            try:
                handler.wfile.write(head[i:i + 1] if where == "head" else b" ")
                handler.wfile.flush()
            except OSError:
                break
        return True

    Scripted.before = drip
    started = time.monotonic()
    try:
        result = cli("replay", REFERENCE_TRACE, "--endpoint", server, "--timeout", "2")
    finally:
        gone.set()
    assert time.monotonic() - started < 6
    assert result.exit_code == 7
    assert "no complete response within 2 s" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_endpoint_down_is_one_line(cli: Invoke, sample_store: None) -> None:
    result = cli("replay", REFERENCE_TRACE, "--endpoint", "http://bob:hunter2@127.0.0.1:9/v1",
                 "--timeout", "2")
    assert result.exit_code == 7
    assert result.stderr.startswith("tracecli: error: endpoint http://bob:***@127.0.0.1:9/v1: ")
    assert "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


SECRETS = ("sk-recorded-SECRET1", "tok-SECRET2", "sk-SECRET3", "SECRET4")


def _with_secrets(tmp_path: Path) -> Path:
    """The reference run's log, its requests carrying credentials a recording may hold."""
    out = tmp_path / "secrets.jsonl"
    lines = []
    for line in SAMPLE_JSONL.read_text().splitlines():
        row = json.loads(line)
        if row["trace_id"] == REFERENCE_TRACE:
            row["request"].update({"api_key": SECRETS[0], "user": SECRETS[1],
                                   "extra_headers": {"Authorization": f"Bearer {SECRETS[2]}"},
                                   "metadata": {"password": SECRETS[3]}})
            lines.append(json.dumps(row))
    out.write_text("\n".join(lines) + "\n")
    return out


def test_no_recorded_secret_reaches_the_server(cli: Invoke, server: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "live-key-XYZ")
    logs = str(_with_secrets(tmp_path))
    dry = cli("replay", REFERENCE_TRACE, "--from", logs, "--endpoint", server,
              "--api-key-env", "MY_KEY", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["headers"] == {"Authorization": "***"}
    assert shown["url"] == server + "/chat/completions"
    assert set(shown["body"]) == {"model", "messages", "tools", "temperature", "stream"}
    assert Scripted.received == []  # a dry run sends nothing
    result = cli("replay", REFERENCE_TRACE, "--from", logs, "--endpoint", server,
                 "--api-key-env", "MY_KEY", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert len(Scripted.received) == 4
    for headers, raw in Scripted.received:
        seen = raw.decode() + json.dumps(headers)
        assert not [s for s in SECRETS if s in seen]
        assert headers["Authorization"] == "Bearer live-key-XYZ"
    spans = cli("spans", "--format", "jsonl", "--limit", "100").stdout
    assert "live-key-XYZ" not in spans + result.stdout + result.stderr + dry.stdout
    assert "rpl_" in spans


def test_the_replay_trace_shows_and_diffs(cli: Invoke, sample_store: None, server: str) -> None:
    code, doc, stderr = replay_json(cli, "--endpoint", server, "--model", "gpt-4o")
    assert code == 0, stderr
    replay_id = doc["replay_trace_id"]
    assert {b["model"] for b in bodies()} == {"gpt-4o"}
    show = cli("show", replay_id)
    assert show.exit_code == 0, show.stderr
    assert "replay_of=trc_7f3a2c91e4b0" in show.stdout and "replay_model=gpt-4o" in show.stdout
    assert "tool multiply(first_int=243, second_int=36) → 8748" in show.stdout
    assert "4 LLM calls" in show.stdout
    diff = cli("diff", "--base-tag", "_user=u_1001", "--head-tag", f"replay_of={REFERENCE_TRACE}",
               "--format", "json")
    assert diff.exit_code == 0, diff.stderr
    report = json.loads(diff.stdout)
    [task] = report["tasks"]
    assert task["base_trace"] == REFERENCE_TRACE and task["head_trace"] == replay_id
    assert task["divergence"] is None and task["same_steps"] == 4
    assert [m["group"] for m in report["models"]] == ["gpt-4o-mini", "gpt-4o"]


def test_no_store_keeps_the_store_as_it_was(cli: Invoke, sample_store: None, server: str) -> None:
    code, doc, stderr = replay_json(cli, "--endpoint", server, "--no-store")
    assert code == 0, stderr
    assert doc["replay_trace_id"] is None
    assert doc["steps"][0]["replayed_usage"]["cost_usd"] > 0  # priced all the same
    assert "rpl_" not in cli("traces", "--format", "jsonl").stdout


def test_usage_errors(cli: Invoke, sample_store: None) -> None:
    result = cli("replay", REFERENCE_TRACE, "--endpoint", "http://127.0.0.1:9/v1", "--header",
                 "Authorization Bearer sk-typed-SECRET")
    assert result.exit_code == 2 and "SECRET" not in result.stderr
    for args in (["--dry-run"], ["--continue-on-divergence"], ["--model", "gpt-4o"]):
        result = cli("replay", REFERENCE_TRACE, *args)
        assert result.exit_code == 2 and "goes with --endpoint URL" in result.stderr
    result = cli("replay", REFERENCE_TRACE, "--endpoint", "http://127.0.0.1:9/v1", "--each-call",
                 "--continue-on-divergence")
    assert result.exit_code == 2


def test_step_quits_on_q(cli: Invoke, sample_store: None) -> None:
    every = cli("replay", REFERENCE_TRACE, "--step", input="\n" * 30)
    quit_early = cli("replay", REFERENCE_TRACE, "--step", input="\nq\n")
    assert every.exit_code == quit_early.exit_code == 0
    assert every.stdout.count("call #") == 8  # each call sent and received
    assert quit_early.stdout.count("call #") == 2 and quit_early.stdout.startswith(every.stdout[:40])
