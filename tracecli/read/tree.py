"""One trace as a tree: spans nested by parent id, each LLM call holding the tool calls it asked
for (arguments and results: tracecli.sql.toolcalls), and the final answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from tracecli.errors import NotFound
from tracecli.read.listing import (
    FEEDBACK_FIELDS,
    FEEDBACK_JOIN,
    decode_json,
    resolve_trace_id,
    rows_of,
    spans_of_trace,
    trace_scope,
)
from tracecli.read.messages import assistant_text, call_signature, request_messages
from tracecli.sql import toolcalls
from tracecli.sql.macros import CALL_KINDS, is_system_key
from tracecli.sql.template import fill
from tracecli.store.schema import trace_key


@dataclass
class ToolCall:
    call_id: str | None
    name: str | None
    arguments: Any
    result: str | None
    result_source: str | None
    seq: int
    tool_span: dict[str, Any] | None = None

    @property
    def signature(self) -> str:
        return call_signature(self.name, self.arguments)


@dataclass
class SpanNode:
    span: dict[str, Any]
    children: list[SpanNode] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    call_number: int | None = None  # 1-based order among the trace's LLM calls
    new_messages: list[dict[str, Any]] = field(default_factory=list)  # input not sent before

    @property
    def kind(self) -> str:
        return self.span.get("kind") or "other"

    @property
    def is_call(self) -> bool:
        """A model call (LLM or embedding), as opposed to a step around them."""
        return self.kind in CALL_KINDS

    @property
    def output_text(self) -> str | None:
        return assistant_text(self.span.get("response"))

    @property
    def system_attributes(self) -> dict[str, str]:
        """What the instrumentation recorded about the span (resource, scope, attributes): kept
        in its metadata beside the user's tags, and never one of them."""
        return {k: v for k, v in (self.span.get("metadata") or {}).items() if is_system_key(k)}


@dataclass
class TraceTree:
    summary: dict[str, Any]
    roots: list[SpanNode]
    answer: str | None


_SUMMARY = """SELECT t.* EXCLUDE (trace_key), {{feedback_fields}} FROM trace_summary t {{feedback_join}}
WHERE t.trace_key = $key::UBIGINT AND t.trace_id = $trace_id"""


def _summary(con: duckdb.DuckDBPyConnection, trace_id: str) -> dict[str, Any] | None:
    sql = fill(_SUMMARY, feedback_fields=FEEDBACK_FIELDS, feedback_join=FEEDBACK_JOIN)
    rows = rows_of(con.execute(sql, {"key": trace_key(trace_id), "trace_id": trace_id}))
    return rows[0] if rows else None


def _spans(con: duckdb.DuckDBPyConnection, summary: dict[str, Any]
           ) -> tuple[list[dict[str, Any]], tuple[datetime, datetime] | None]:
    """A trace's spans, looked up within its time range, which lets DuckDB skip every other row
    group of a big store; a trace with untimed spans (fewer found than it has) needs a full look.
    Returns the range that found them all, if one did."""
    within = (summary["start_time"], summary["end_time"])
    if all(within):
        spans = spans_of_trace(con, summary["trace_id"], within)
        if len(spans) == summary.get("spans"):
            return spans, within
    return spans_of_trace(con, summary["trace_id"]), None


def build(con: duckdb.DuckDBPyConnection, trace_ref: str, *, all_spans: bool = False) -> TraceTree:
    """The tree for a trace id or unique prefix (an exact id is tried first: one lookup)."""
    summary = _summary(con, trace_ref) or _summary(con, resolve_trace_id(con, trace_ref))
    if summary is None:
        raise NotFound(f"no trace matches {trace_ref!r}")
    spans, within = _spans(con, summary)
    # a trace without tool calls needs no lookup
    calls = _tool_calls(con, summary["trace_id"], within) if summary.get("tool_calls") else []
    nodes = {s["span_id"]: SpanNode(s) for s in spans}
    by_span = {s["span_id"]: s for s in spans}
    absorbed = _attach_tool_calls(nodes, by_span, calls)
    roots = _nest(spans, nodes, absorbed)
    if not all_spans:
        roots = _fold(roots)
    _number_calls(roots)
    return TraceTree(summary=summary, roots=roots, answer=_final_answer(spans))


def _attach_tool_calls(nodes: dict[str, SpanNode], spans: dict[str, dict[str, Any]],
                       calls: list[dict[str, Any]]) -> set[str]:
    """Put each tool call under the LLM call that asked for it; a tool span that executed a
    call is shown inside that call's node, not again as a span. Returns those span ids."""
    absorbed: set[str] = set()
    for row in calls:
        call = ToolCall(call_id=row["call_id"], name=row["tool_name"], arguments=row["arguments"],
                        result=row["result"], result_source=row["result_source"], seq=row["seq"],
                        tool_span=spans.get(row["tool_span_id"] or ""))
        owner = row["llm_span_id"] if row["llm_span_id"] in nodes else row["tool_span_id"]
        if owner in nodes:
            nodes[owner].tool_calls.append(call)
            if row["tool_span_id"] and owner != row["tool_span_id"]:
                absorbed.add(row["tool_span_id"])
    return absorbed


def _nest(spans: list[dict[str, Any]], nodes: dict[str, SpanNode], absorbed: set[str]) -> list[SpanNode]:
    roots: list[SpanNode] = []
    for span in spans:
        if span["span_id"] in absorbed:
            continue
        node = nodes[span["span_id"]]
        parent = span.get("parent_span_id")
        seen = {span["span_id"]}
        while parent in absorbed and parent not in seen:  # under a tool span shown as a call
            seen.add(parent)
            parent = nodes[parent].span.get("parent_span_id")
        if parent and parent in nodes and parent not in seen and parent not in absorbed:
            nodes[parent].children.append(node)
        else:
            roots.append(node)
    return roots


def _interesting(node: SpanNode) -> bool:
    return node.is_call or bool(node.tool_calls) or node.span.get("status") == "error"


def _fold(nodes: list[SpanNode], *, top: bool = True) -> list[SpanNode]:
    """Fold framework noise: a span holding no LLM call, tool call or error itself gives its
    place to whatever below it does (so LangChain's RunnableSequence / prompt / parser spans
    vanish), and goes entirely when nothing below it does. Agent spans and the trace's top
    spans stay as levels, with their own duration."""
    out: list[SpanNode] = []
    for node in nodes:
        node.children = _fold(node.children, top=False)
        if _interesting(node) or (node.children and (top or node.kind == "agent")):
            out.append(node)
        else:
            out.extend(node.children)
    return out


def _number_calls(roots: list[SpanNode]) -> None:
    """Number the calls in order and note which input messages each one added."""
    counter = 0
    previous: list[dict[str, Any]] = []

    def walk(nodes: list[SpanNode]) -> None:
        nonlocal counter, previous
        for node in nodes:
            if node.is_call:
                counter += 1
                node.call_number = counter
                messages = request_messages(node.span.get("request"))
                continues = len(messages) > len(previous) and messages[: len(previous)] == previous
                node.new_messages = messages[len(previous):] if continues else messages
                if node.kind == "llm":
                    previous = messages
            walk(node.children)

    walk(roots)


def _final_answer(spans: list[dict[str, Any]]) -> str | None:
    """The text of the last LLM call that answered rather than asked for tools."""
    for span in reversed(spans):
        if span.get("kind") == "llm" and span.get("status") != "error":
            return assistant_text(span.get("response"))
    return None


def to_dict(tree: TraceTree) -> dict[str, Any]:
    """The documented `show --format json` shape."""
    return {"trace": tree.summary, "spans": [_node_dict(n) for n in tree.roots], "answer": tree.answer}


_SPAN_FIELDS = ("span_id", "parent_span_id", "name", "kind", "start_time", "duration_ms",
                "provider", "model", "status", "http_status", "error", "prompt_tokens",
                "completion_tokens", "cached_tokens", "total_tokens", "cost_usd", "cost_source",
                "cache_status", "retries", "metadata")


def _node_dict(node: SpanNode) -> dict[str, Any]:
    out = {k: node.span.get(k) for k in _SPAN_FIELDS}
    out["call_number"] = node.call_number
    out["output"] = node.output_text
    out["tool_calls"] = [
        {"call_id": c.call_id, "name": c.name, "arguments": c.arguments, "result": c.result,
         "result_source": c.result_source, "seq": c.seq,
         "tool_span_id": c.tool_span["span_id"] if c.tool_span else None}
        for c in node.tool_calls
    ]
    out["children"] = [_node_dict(c) for c in node.children]
    return out


def _tool_calls(con: duckdb.DuckDBPyConnection, trace_id: str,
                within: tuple[datetime, datetime] | None) -> list[dict[str, Any]]:
    """One trace's tool calls, from its spans looked up `within` its time range when given."""
    scope, params = trace_scope(trace_id, within)
    cursor = con.execute(fill(toolcalls.ROWS, scope=scope), params)
    return decode_json(rows_of(cursor), ("arguments",))
