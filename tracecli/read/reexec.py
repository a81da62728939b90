"""Re-executing a recorded run's requests against an OpenAI-compatible endpoint, and comparing
what comes back now with what came back then."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from tracecli.errors import ExitCode, TraceCliError
from tracecli.read.messages import assistant_text, call_signature
from tracecli.read.replay import Executor
from tracecli.read.tree import SpanNode, TraceTree


@dataclass
class Outcome:
    """What one call produced: text, tool calls as `name(args)`, tokens, latency."""

    text: str | None
    tools: list[str]
    prompt_tokens: int | None
    completion_tokens: int | None
    duration_ms: float | None
    error: str | None = None


@dataclass
class Comparison:
    call_number: int
    span_id: str
    model: str | None
    recorded: Outcome
    live: Outcome
    notes: list[str] = field(default_factory=list)

    @property
    def same_tools(self) -> bool:
        return self.recorded.tools == self.live.tools

    @property
    def same_text(self) -> bool:
        return (self.recorded.text or "").strip() == (self.live.text or "").strip()

    def to_dict(self) -> dict[str, Any]:
        return {"call_number": self.call_number, "span_id": self.span_id, "model": self.model,
                "same_tools": self.same_tools, "same_text": self.same_text,
                "recorded": vars(self.recorded), "live": vars(self.live), "notes": self.notes}


class OpenAICompatible:
    """POSTs chat requests to `{base_url}/chat/completions`."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        import httpx  # only replay against an endpoint needs it

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self._errors = (httpx.HTTPError,)

    def execute(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post("/chat/completions", json=request)
        except self._errors as exc:
            raise TraceCliError(f"endpoint {self._client.base_url}: {exc}", ExitCode.REMOTE) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"error": {"message": response.text[:500]}}
        if response.status_code >= 400 and "error" not in body:
            body = {"error": {"message": f"HTTP {response.status_code}"}}
        return body

    def close(self) -> None:
        self._client.close()


def _tools(response: Any) -> list[str]:
    """The calls a chat completion asks for, keys sorted: recorded and live compare by what
    they ask, not by the order a model wrote the arguments in."""
    if not isinstance(response, dict):
        return []
    choices = response.get("choices")
    if not (isinstance(choices, list) and choices and isinstance(choices[0], dict)):
        return []
    calls = (choices[0].get("message") or {}).get("tool_calls") or []
    out = []
    for call in calls:
        fn = (call.get("function") or {}) if isinstance(call, dict) else {}
        out.append(call_signature(fn.get("name"), _arguments(fn.get("arguments")), sort_keys=True))
    return out


def _arguments(arguments: Any) -> Any:
    """Arguments as sent: chat completions encode them as a JSON string."""
    if not isinstance(arguments, str):
        return arguments
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def _outcome(response: Any, duration_ms: float | None) -> Outcome:
    usage = response.get("usage") if isinstance(response, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    error = response.get("error") if isinstance(response, dict) else None
    message = error.get("message") if isinstance(error, dict) else (str(error) if error else None)
    return Outcome(text=assistant_text(response), tools=_tools(response),
                   prompt_tokens=usage.get("prompt_tokens"),
                   completion_tokens=usage.get("completion_tokens"),
                   duration_ms=duration_ms, error=message)


def _chat_calls(tree: TraceTree) -> list[SpanNode]:
    out: list[SpanNode] = []

    def walk(nodes: list[SpanNode]) -> None:
        for node in nodes:
            request = node.span.get("request")
            if node.kind == "llm" and isinstance(request, dict) and isinstance(request.get("messages"), list):
                out.append(node)
            walk(node.children)

    walk(tree.roots)
    return out


def reexecute(tree: TraceTree, executor: Executor, *, model: str | None = None) -> list[Comparison]:
    """Send each recorded chat request again, as recorded (optionally to another model)."""
    results = []
    for node in _chat_calls(tree):
        request = dict(node.span["request"])
        request["stream"] = False
        request.pop("stream_options", None)
        if model:
            request["model"] = model
        started = time.perf_counter()
        live = executor.execute(request)
        elapsed = (time.perf_counter() - started) * 1000
        span = node.span
        recorded = _outcome(span.get("response"), span.get("duration_ms"))
        if span.get("status") == "error" and not recorded.error:
            recorded.error = span.get("error") or f"HTTP {span.get('http_status')}"
        notes = []
        if span.get("cache_status") and "HIT" in str(span["cache_status"]).upper():
            notes.append(f"recorded response was a cache {span['cache_status']}")
        results.append(Comparison(node.call_number or 0, span["span_id"], request.get("model"),
                                  recorded, _outcome(live, elapsed), notes))
    return results
