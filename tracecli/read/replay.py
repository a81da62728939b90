"""A recorded run as a sequence of steps on its own clock: what was sent, what came back, each
tool call and its result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from tracecli.read.messages import assistant_text, message_text
from tracecli.read.tree import SpanNode, TraceTree

StepKind = Literal["send", "receive", "tool", "error", "answer"]


@dataclass
class Step:
    at_ms: float  # offset from the trace's first span
    kind: StepKind
    call_number: int | None
    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (label, text)
    span_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"at_ms": self.at_ms, "kind": self.kind, "call_number": self.call_number,
                "title": self.title, "lines": [{"label": a, "text": b} for a, b in self.lines],
                "span_id": self.span_id}


def _offset(start: datetime | None, t0: datetime | None) -> float:
    if start is None or t0 is None:
        return 0.0
    return (start - t0).total_seconds() * 1000


def steps(tree: TraceTree) -> list[Step]:
    """Every step of the run in the order it happened."""
    t0 = tree.summary.get("start_time")
    out: list[Step] = []
    last = 0.0

    def walk(nodes: list[SpanNode]) -> None:
        nonlocal last
        for node in nodes:
            if node.is_call:
                last = _call_steps(node, t0, out, last)
            walk(node.children)

    walk(tree.roots)
    already_said = out and out[-1].kind == "receive" and ("assistant", tree.answer) in out[-1].lines
    if tree.answer and not already_said:
        out.append(Step(last, "answer", None, "final answer", [("assistant", tree.answer)]))
    return out


def _call_steps(node: SpanNode, t0: datetime | None, out: list[Step], last: float) -> float:
    s = node.span
    start = max(_offset(s.get("start_time"), t0), last)
    end = start + float(s.get("duration_ms") or 0)
    model = s.get("model") or "?"
    sent = [(str(m.get("role") or m.get("type") or "message"), _said(m)) for m in node.new_messages]
    out.append(Step(start, "send", node.call_number, f"call #{node.call_number} → {model}", sent,
                    s["span_id"]))
    if s.get("status") == "error":
        detail = s.get("error") or f"HTTP {s.get('http_status')}"
        out.append(Step(end, "error", node.call_number, f"call #{node.call_number} failed",
                        [("error", str(detail))], s["span_id"]))
        return end
    got = [("tool call", c.signature) for c in node.tool_calls]
    text = assistant_text(s.get("response"))
    if text:
        got.insert(0, ("assistant", text))
    out.append(Step(end, "receive", node.call_number, f"call #{node.call_number} ← {model}", got,
                    s["span_id"]))
    for call in node.tool_calls:
        tool_start = _offset(call.tool_span.get("start_time"), t0) if call.tool_span else end
        at = max(tool_start, end)
        result = call.result if call.result is not None else "(no result recorded)"
        out.append(Step(at, "tool", node.call_number, call.signature,
                        [("result", result)], s["span_id"]))
    return end


def _said(message: dict[str, Any]) -> str:
    """A sent message as replay shows it; one that only asks for tools names them."""
    text = message_text(message)
    if text is not None:
        return text
    names = [tc.get("function", {}).get("name", "?") for tc in message["tool_calls"]
             if isinstance(tc, dict)]
    return "(asked for " + ", ".join(names) + ")"
