"""A recorded agent run played again against a model: its first request sent, and while the
model asks for the same tools with the same arguments, the recorded results fed back, as the
agent did, until the first divergence. Tools are never executed: a result can only come from
the recording. The replayed calls become canonical span rows, stored as a trace of their own."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.read.diff import Step, change, first_divergence, parted, rounded, step_of
from tracecli.read.endpoint import Reply
from tracecli.read.messages import call_signature
from tracecli.read.tree import SpanNode, ToolCall, TraceTree, build

NO_RESULT = "(no recorded result)"
EXTRA_STEPS = 10  # calls past the recording a counterfactual run may make before it is cut
# Request parameters a replay keeps; everything else a recording holds (api_key, user, headers,
# metadata, masked placeholders) stays behind.
PARAMETERS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
              "tool_choice", "parallel_tool_calls", "response_format", "frequency_penalty",
              "presence_penalty", "reasoning_effort")
_MESSAGE_KEYS = ("role", "content", "name", "tool_call_id")

Status = Literal["same", "diverged", "counterfactual", "not_sent"]


@dataclass
class Sent:
    """One replayed call: the request, the reply, and when it was sent."""

    request: dict[str, Any]
    reply: Reply
    at: datetime


@dataclass
class StepResult:
    number: int
    status: Status
    recorded: Step | None
    replayed: Step | None
    recorded_span: dict[str, Any] | None
    sent: Sent | None
    results: list[dict[str, Any]] = field(default_factory=list)  # {call, result, source}


@dataclass
class Run:
    trace_id: str
    replay_trace_id: str
    model: str
    steps: list[StepResult]
    divergence: dict[str, Any] | None


# ---------------------------------------------------------------------------- requests


def chat_calls(tree: TraceTree) -> list[SpanNode]:
    """The trace's LLM calls that recorded a chat request, in order."""
    out: list[SpanNode] = []

    def walk(nodes: list[SpanNode]) -> None:
        for node in nodes:
            request = node.span.get("request")
            if node.kind == "llm" and isinstance(request, dict) and isinstance(request.get("messages"), list):
                out.append(node)
            walk(node.children)

    walk(tree.roots)
    return out


def first_request(tree: TraceTree, model: str | None) -> dict[str, Any]:
    """The trace's first recorded chat request, rebuilt; `model` swaps the model."""
    calls = chat_calls(tree)
    if not calls:
        raise TraceCliError("this trace has no chat requests to replay", ExitCode.NOT_FOUND)
    return rebuilt(calls[0].span["request"], model)


def rebuilt(recorded: dict[str, Any], model: str | None) -> dict[str, Any]:
    """A chat request made from a recorded one's messages, tools and parameters only: nothing
    else it holds (api_key, user, headers, metadata) is sent. `model` wins over the recorded."""
    body: dict[str, Any] = {"model": model or recorded.get("model"),
                            "messages": [_message(m) for m in recorded["messages"]
                                         if isinstance(m, dict)]}
    if isinstance(recorded.get("tools"), list):
        body["tools"] = recorded["tools"]
    body.update({k: recorded[k] for k in PARAMETERS if recorded.get(k) is not None})
    body["stream"] = False
    return body


def _message(message: dict[str, Any]) -> dict[str, Any]:
    out = {k: message[k] for k in _MESSAGE_KEYS if k in message}
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [_tool_call(c) for c in calls if isinstance(c, dict)]
    return out


def _tool_call(call: dict[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    arguments = fn.get("arguments")
    return {"id": call.get("id"), "type": "function",
            "function": {"name": fn.get("name"), "arguments": arguments if isinstance(arguments, str)
                         else json.dumps(arguments)}}


# ---------------------------------------------------------------------------- the run


def _live_node(number: int, reply: Reply, span_id: str, model: str) -> SpanNode:
    """The reply as a tree node, so that diff reads its step as it reads a recorded one."""
    calls = [ToolCall(call_id=c.get("id"), name=(c.get("function") or {}).get("name"),
                      arguments=decoded_arguments((c.get("function") or {}).get("arguments")),
                      result=None, result_source=None, seq=i + 1)
             for i, c in enumerate(_asked(reply))]
    span = {"span_id": span_id, "model": reply.body.get("model") or model, "status": "ok",
            "response": reply.body}
    return SpanNode(span, tool_calls=calls, call_number=number)


def _message_of(reply: Reply) -> dict[str, Any]:
    choices = reply.body["choices"]
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = first.get("message")
    return message if isinstance(message, dict) else {}


def _asked(reply: Reply) -> list[dict[str, Any]]:
    """The tool calls a reply asks for."""
    calls = _message_of(reply).get("tool_calls")
    return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


def decoded_arguments(arguments: Any) -> Any:
    """Tool call arguments as sent: chat completions encode them as a JSON string."""
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def _recorded_results(calls: list[SpanNode]) -> dict[str, str]:
    """Every recorded tool result by the call that produced it (arguments in one order)."""
    out: dict[str, str] = {}
    for node in calls:
        for c in node.tool_calls:
            if c.result is not None:
                out.setdefault(call_signature(c.name, c.arguments, sort_keys=True), c.result)
    return out


def replay(tree: TraceTree, send: Callable[[dict[str, Any]], Reply], *, model: str | None,
           keep_going: bool) -> Run:
    """Send the first request, then each next one the agent would have sent, while the model
    decides as the recording did (with `keep_going`, on past a divergence, counterfactually)."""
    calls = chat_calls(tree)
    recorded = [step_of(i + 1, n) for i, n in enumerate(calls)]
    results = _recorded_results(calls)
    request = first_request(tree, model)
    replay_id = "rpl_" + uuid.uuid4().hex[:12]
    out: list[StepResult] = []
    diverged = False
    for number in range(1, len(recorded) + EXTRA_STEPS + 1):
        at = datetime.now(UTC).replace(tzinfo=None)
        reply = send(request)
        live = step_of(number, _live_node(number, reply, f"{replay_id}-{number}", request["model"]))
        rec = recorded[number - 1] if number <= len(recorded) else None
        was_diverged = diverged
        diverged = diverged or parted(rec, live) is not None
        status: Status = "counterfactual" if was_diverged else "diverged" if diverged else "same"
        step = StepResult(number, status, rec, live, calls[number - 1].span if rec else None,
                          Sent(request, reply, at))
        out.append(step)
        if live.action != "tools" or (diverged and not keep_going):
            break
        here = _recorded_results([calls[number - 1]]) if rec else {}  # this step's own first
        request = _next_request(request, reply, live, step, {**results, **here})
    for rec in recorded[len(out):]:
        out.append(StepResult(rec.number, "not_sent", rec, None, calls[rec.number - 1].span, None))
    divergence = first_divergence(recorded, [s.replayed for s in out if s.replayed])
    return Run(tree.summary["trace_id"], replay_id, request["model"], out, divergence)


def _next_request(request: dict[str, Any], reply: Reply, live: Step, step: StepResult,
                  results: dict[str, str]) -> dict[str, Any]:
    """The conversation so far, the model's tool calls, and a recorded result for each."""
    tool_calls = [_tool_call(c) for c in _asked(reply)]
    said = {"role": "assistant", "content": _message_of(reply).get("content"), "tool_calls": tool_calls}
    answers = []
    for call, asked, tc in zip(live.calls, live.asked, tool_calls, strict=True):
        result = results.get(asked)
        step.results.append({"call": call, "result": result,
                             "source": "recorded" if result is not None else None})
        answers.append({"role": "tool", "tool_call_id": tc["id"],
                        "content": result if result is not None else NO_RESULT})
    return {**request, "messages": [*request["messages"], said, *answers]}


# ---------------------------------------------------------------------------- spans


def span_rows(run: Run, endpoint: str) -> list[dict[str, Any]]:
    """The replayed calls as canonical span rows (tracecli's own JSONL reader takes them), tagged
    replay_of and replay_model."""
    rows = []
    for s in run.steps:
        if s.sent is None or s.replayed is None:
            continue
        usage = s.sent.reply.body.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        details = usage.get("prompt_tokens_details")
        rows.append({
            "record_key": f"replay:{run.replay_trace_id}:{s.number}",
            "trace_id": run.replay_trace_id, "span_id": s.replayed.span_id,
            "name": f"replay-step-{s.number}", "kind": "llm",
            "start_time": s.sent.at.isoformat(), "duration_ms": round(s.sent.reply.ms, 3),
            "model": s.replayed.model, "status": "ok", "http_status": 200,
            "prompt_tokens": usage.get("prompt_tokens"),
            "completion_tokens": usage.get("completion_tokens"),
            "cached_tokens": details.get("cached_tokens") if isinstance(details, dict) else None,
            "total_tokens": usage.get("total_tokens"), "retries": s.sent.reply.retries,
            "metadata": {"replay_of": run.trace_id, "replay_model": run.model},
            "request": s.sent.request, "response": s.sent.reply.body,
            "source_file": f"replay of {run.trace_id} at {endpoint}", "source_row": s.number,
            "source_format": "tracecli",
        })
    return rows


def store(con: duckdb.DuckDBPyConnection, run: Run, endpoint: str) -> dict[str, dict[str, Any]]:
    """Add the replayed calls to the store through the ingest path (tracecli's own span JSONL),
    so that summaries, tool calls and prices are made as for any trace; returns the stored
    spans by id."""
    from tracecli.ingest.pipeline import ingest

    with tempfile.TemporaryDirectory(prefix="tracecli-replay-") as folder:
        path = Path(folder) / "replay.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in span_rows(run, endpoint)))
        ingest(con, [str(path)], format_name="tracecli")
    stored: dict[str, dict[str, Any]] = {}

    def walk(nodes: list[SpanNode]) -> None:
        for node in nodes:
            stored[node.span["span_id"]] = node.span
            walk(node.children)

    walk(build(con, run.replay_trace_id).roots)
    return stored


# ---------------------------------------------------------------------------- report


def _usage(span: dict[str, Any] | None) -> dict[str, Any]:
    span = span or {}
    prompt, completion = span.get("prompt_tokens"), span.get("completion_tokens")
    tokens = None if prompt is None and completion is None else (prompt or 0) + (completion or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "tokens": tokens,
            "cost_usd": rounded(span.get("cost_usd")), "duration_ms": rounded(span.get("duration_ms")),
            "retries": span.get("retries")}


def _total(usages: list[dict[str, Any]], key: str) -> float | int | None:
    values = [u[key] for u in usages if u[key] is not None]
    return sum(values) if values else None


TOTALS = ("calls", "tokens", "cost_usd", "duration_ms", "retries")


def to_dict(run: Run, stored: dict[str, dict[str, Any]], endpoint: str,
            kept: bool) -> dict[str, Any]:
    """The documented `replay --endpoint --format json` shape. `stored` holds the replayed
    spans as the store priced them, by span id."""
    steps, recorded_usage, replayed_usage = [], [], []
    for s in run.steps:
        rec = _usage(s.recorded_span) if s.recorded else None
        live = _usage(stored.get(s.replayed.span_id)) if s.replayed else None
        recorded_usage += [rec] if rec else []
        replayed_usage += [live] if live else []
        steps.append({"step": s.number, "status": s.status,
                      "recorded": s.recorded.to_dict() if s.recorded else None,
                      "replayed": s.replayed.to_dict() if s.replayed else None,
                      "tool_results": s.results, "recorded_usage": rec, "replayed_usage": live})
    totals: dict[str, Any] = {}
    for key in TOTALS:
        b = len(recorded_usage) if key == "calls" else _total(recorded_usage, key)
        h = len(replayed_usage) if key == "calls" else _total(replayed_usage, key)
        delta, pct = change(b, h)
        totals[key] = {"recorded": rounded(b) if isinstance(b, float) else b,
                       "replayed": rounded(h) if isinstance(h, float) else h,
                       "change": delta, "change_pct": pct}
    d = run.divergence
    return {"trace_id": run.trace_id, "replay_trace_id": run.replay_trace_id if kept else None,
            "endpoint": endpoint, "model": run.model, "same_path": d is None,
            "divergence": None if d is None else {"step": d["step"], "kind": d["kind"],
                                                  "recorded": d["base"], "replayed": d["head"]},
            "steps": steps, "totals": totals}
