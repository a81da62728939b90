"""Re-executing a recorded run's requests against an OpenAI-compatible endpoint, and comparing
what comes back now with what came back then."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracecli.read.endpoint import Reply
from tracecli.read.messages import assistant_text, call_signature
from tracecli.read.rerun import chat_calls, decoded_arguments, rebuilt
from tracecli.read.tree import TraceTree


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
        out.append(call_signature(fn.get("name"), decoded_arguments(fn.get("arguments")), sort_keys=True))
    return out


def _outcome(response: Any, duration_ms: float | None) -> Outcome:
    usage = response.get("usage") if isinstance(response, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    error = response.get("error") if isinstance(response, dict) else None
    message = error.get("message") if isinstance(error, dict) else (str(error) if error else None)
    return Outcome(text=assistant_text(response), tools=_tools(response),
                   prompt_tokens=usage.get("prompt_tokens"),
                   completion_tokens=usage.get("completion_tokens"),
                   duration_ms=duration_ms, error=message)


def reexecute(tree: TraceTree, send: Callable[[dict[str, Any]], Reply], *,
              model: str | None = None) -> list[Comparison]:
    """Send each recorded chat request again, rebuilt from its messages, tools and parameters
    (optionally to another model), each on its own."""
    results = []
    for node in chat_calls(tree):
        request = rebuilt(node.span["request"], model)
        live = send(request)
        span = node.span
        recorded = _outcome(span.get("response"), span.get("duration_ms"))
        if span.get("status") == "error" and not recorded.error:
            recorded.error = span.get("error") or f"HTTP {span.get('http_status')}"
        notes = []
        if span.get("cache_status") and "HIT" in str(span["cache_status"]).upper():
            notes.append(f"recorded response was a cache {span['cache_status']}")
        if live.retries:
            notes.append(f"{live.retries} {'retry' if live.retries == 1 else 'retries'}")
        results.append(Comparison(node.call_number or 0, span["span_id"], request.get("model"),
                                  recorded, _outcome(live.body, live.ms), notes))
    return results
