"""One trace on one time axis (`show --waterfall`): every span of its tree, in the tree's order
and depth, with its start and end as offsets from the trace's first start (computed by DuckDB
from the spans' times), and the critical path marked.

The critical path is the chain of spans whose ends determine the trace's end: at the top, the
span that ends last; before it, the span that ended last before it started, and so on back to
the trace's start; within each span on the path, the same among its children. A span that ran
beside a critical one (a parallel tool call that finished sooner) is off the path: making it
faster would not end the run sooner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from tracecli.read.listing import rows_of, trace_scope
from tracecli.read.tree import SpanNode, TraceTree
from tracecli.sql.template import fill

# Offsets in milliseconds from the trace's first start (µs precision); a span ends at its start
# plus its duration. Every span of the trace counts for the axis, those the tree folds away too.
_OFFSETS = """WITH s AS (
  SELECT span_id, duration_ms,
         tc_total_tokens(total_tokens, prompt_tokens, completion_tokens) AS tokens,
         epoch_us(start_time) / 1000 AS t0, epoch_us(start_time) / 1000 + duration_ms AS t1
  FROM spans WHERE {{scope}})
SELECT span_id, tokens, round(duration_ms, 3) AS duration_ms,
       round(t0 - min(t0) OVER (), 3) AS start_offset_ms,
       round(t1 - min(t0) OVER (), 3) AS end_offset_ms,
       round(max(t1) OVER () - min(t0) OVER (), 3) AS axis_ms
FROM s"""


@dataclass
class Bar:
    """One span's line of the waterfall."""

    span: dict[str, Any]
    depth: int
    label: str  # what the span is: `#1 gpt-4o-mini`, `tool multiply`, `agent AgentExecutor`
    start_offset_ms: float | None
    duration_ms: float | None
    end_offset_ms: float | None
    tokens: int | None
    critical: bool = False
    children: list[Bar] = field(default_factory=list)  # the spans that ran within this one

    @property
    def timed(self) -> bool:
        return self.start_offset_ms is not None and self.end_offset_ms is not None

    def to_dict(self) -> dict[str, Any]:
        """The documented `show --waterfall --format json` span object."""
        s = self.span
        return {"span_id": s.get("span_id"), "parent_span_id": s.get("parent_span_id"),
                "depth": self.depth, "name": s.get("name"), "label": self.label,
                "kind": s.get("kind"), "model": s.get("model"), "status": s.get("status"),
                "start_offset_ms": self.start_offset_ms, "duration_ms": self.duration_ms,
                "end_offset_ms": self.end_offset_ms, "critical": self.critical,
                "tokens": self.tokens, "cost_usd": s.get("cost_usd"), "retries": s.get("retries")}


@dataclass
class Waterfall:
    summary: dict[str, Any]
    duration_ms: float | None  # the axis: first start to last end
    bars: list[Bar]  # in the tree's order

    def to_dict(self) -> dict[str, Any]:
        """The documented `show --waterfall --format json` shape."""
        s = self.summary
        return {"trace_id": s.get("trace_id"), "start_time": s.get("start_time"),
                "duration_ms": self.duration_ms, "spans": [b.to_dict() for b in self.bars]}


def build(con: duckdb.DuckDBPyConnection, tree: TraceTree) -> Waterfall:
    """The waterfall of a trace read as a tree (tracecli.read.tree.build)."""
    offsets = _offsets(con, tree.summary)
    bars: list[Bar] = []
    top = _bars(tree.roots, 0, offsets, bars)
    _mark_critical(top)
    axis = next(iter(offsets.values()), {}).get("axis_ms")
    return Waterfall(summary=tree.summary, duration_ms=axis, bars=bars)


def _offsets(con: duckdb.DuckDBPyConnection, summary: dict[str, Any]) -> dict[Any, dict[str, Any]]:
    """Each span's offsets, by span id, looked up within the trace's time range when known."""
    within = (summary["start_time"], summary["end_time"])
    scope, params = trace_scope(summary["trace_id"], within if all(within) else None)
    return {r["span_id"]: r for r in rows_of(con.execute(fill(_OFFSETS, scope=scope), params))}


def _bars(nodes: list[SpanNode], depth: int, offsets: dict[Any, dict[str, Any]],
          out: list[Bar]) -> list[Bar]:
    """Bars for these sibling nodes and everything below them, appended to `out` in the tree's
    order. Returns the bars that are siblings in time: the nodes', and those of the tool spans
    their calls asked for (shown under the call, they ran beside it, after it answered)."""
    level: list[Bar] = []
    for node in nodes:
        bar = _bar(node.span, depth, _label(node), offsets)
        out.append(bar)
        level.append(bar)
        for call in node.tool_calls:
            tool = call.tool_span
            if tool is not None and tool.get("span_id") != node.span.get("span_id"):
                name = call.name or tool.get("tool_name") or tool.get("name") or ""
                tool_bar = _bar(tool, depth + 1, f"tool {name}", offsets)
                out.append(tool_bar)
                level.append(tool_bar)
        bar.children = _bars(node.children, depth + 1, offsets, out)
    return level


def _bar(span: dict[str, Any], depth: int, label: str, offsets: dict[Any, dict[str, Any]]) -> Bar:
    o = offsets.get(span.get("span_id"), {})
    return Bar(span=span, depth=depth, label=label, start_offset_ms=o.get("start_offset_ms"),
               duration_ms=o.get("duration_ms"), end_offset_ms=o.get("end_offset_ms"),
               tokens=o.get("tokens"))


def _label(node: SpanNode) -> str:
    """The call's number and model, or the step's kind and name (as `show` names them)."""
    s = node.span
    if node.is_call:
        number = f"#{node.call_number} " if node.call_number is not None else ""
        return f"{number}{s.get('model') or '?'}"
    return f"{node.kind} {s.get('name') or s.get('tool_name') or ''}".rstrip()


def _mark_critical(level: list[Bar]) -> None:
    """Mark the critical path among sibling bars (see the module's docstring): the one ending
    last, then repeatedly the one ending last before the marked one started, each searched
    within in turn. Starts only go back, so it ends."""
    timed = [b for b in level if b.timed]
    current = max(timed, key=_end, default=None)
    while current is not None:
        current.critical = True
        _mark_critical(current.children)
        start = _start(current)
        current = max((b for b in timed if _end(b) <= start and _start(b) < start),
                      key=_end, default=None)


def _start(bar: Bar) -> float:
    return bar.start_offset_ms or 0.0


def _end(bar: Bar) -> float:
    return bar.end_offset_ms or 0.0
