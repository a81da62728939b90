"""`tracecli show` as a Rich tree, and as a nested Markdown list: every piece of log content goes
in as Text, never markup (in Markdown, escaped); fields that are one line (ids, names, models,
tags) are folded onto one, so none forges a line."""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from rich.tree import Tree

from tracecli.read.messages import message_text
from tracecli.read.tree import SpanNode, ToolCall, TraceTree, to_dict
from tracecli.render.output import cell, format_cost, format_ms, format_score, money
from tracecli.render.text import markdown as md
from tracecli.render.text import markdown_code, one_line, safe
from tracecli.sql.macros import RESOURCE_KEY, SCOPE_ATTRIBUTES_KEY, SCOPE_KEY

PREVIEW = 160
TAG_VALUE = 60  # a tag's value in the header is cut here: the header stays a few lines long
# What the instrumentation recorded that most spans of a run share: `--full` shows it where it
# changes, not on every span.
SHARED = (RESOURCE_KEY, SCOPE_KEY, SCOPE_ATTRIBUTES_KEY)


def render(tree: TraceTree, *, full: bool = False) -> Tree:
    root = Tree(root_label(tree.summary), guide_style="dim")
    shown: dict[str, str] = {}  # the shared values `--full` showed last, by key
    for node in tree.roots:
        _add_node(root, node, full, shown)
    if tree.answer:
        label = Text("answer: ", style="bold green")
        label.append(one_line(tree.answer) if not full else safe(tree.answer))
        root.add(label)
    return root


def root_label(s: dict[str, Any]) -> Text:
    """The trace's one-line summary, as the tree's root (and the browser's) shows it."""
    t = Text()
    t.append("trace ", style="bold")
    t.append(one_line(s.get("trace_id")), style="bold cyan")
    parts = [cell(s.get("start_time"), "time") + " UTC" if s.get("start_time") else None,
             format_ms(s["duration_ms"]) if s.get("duration_ms") is not None else None,
             _plural(s.get("llm_calls"), "LLM call"),
             _plural(s.get("tool_calls"), "tool call"),
             f"{int(s['total_tokens']):,} tokens" if s.get("total_tokens") else None,
             _cost_text(s.get("cost_usd"), s.get("unpriced_calls"))]
    for part in parts:
        if part:
            t.append(" · " + part)
    if s.get("feedback_count"):
        t.append(" · feedback " + format_score(s.get("feedback_score"), s["feedback_count"]))
    status = s.get("status") or "ok"
    t.append(" · ")
    t.append(status, style="green" if status == "ok" else "bold red")
    tags = s.get("tags") or {}  # the tags a user set (tracecli.store.summaries)
    if tags:
        t.append(" · " + " ".join(f"{one_line(k)}={one_line(v, TAG_VALUE)}" for k, v in tags.items()),
                 style="dim")
    return t


def _plural(n: Any, word: str) -> str | None:
    """`1 LLM call`, `2 LLM calls`; nothing for a count not known."""
    return None if n is None else _count(n, word, word + "s")


def _count(n: Any, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _cost_text(cost: Any, unpriced: Any) -> str | None:
    if cost is None and not unpriced:
        return None
    text = format_cost(float(cost or 0))
    if unpriced:
        text += f" (+{unpriced} unpriced)"
    return text


def _add_node(parent: Tree, node: SpanNode, full: bool, shown: dict[str, str]) -> None:
    branch = parent.add(span_label(node))
    if full:
        _add_system_attributes(branch, node, shown)
    if full and node.is_call:
        for message in node.new_messages:
            branch.add(message_label(message))
    for call in node.tool_calls:
        _add_tool_call(branch, call, full)
    if node.kind == "llm" and node.output_text and full:
        out = Text("assistant: ", style="bold")
        out.append(safe(node.output_text))
        branch.add(out)
    for child in node.children:
        _add_node(branch, child, full, shown)


def _add_system_attributes(branch: Tree, node: SpanNode, shown: dict[str, str]) -> None:
    """What the instrumentation recorded about the span, one line a key."""
    for key, value in _system_attributes(node, shown):
        line = Text(f"{one_line(key)}: ", style="dim bold")
        line.append(safe(value), style="dim")
        branch.add(line)


def _system_attributes(node: SpanNode, shown: dict[str, str]) -> list[tuple[str, str]]:
    """The span's system attributes to show: the SHARED ones only where they differ from those
    shown last (noted in `shown`)."""
    out = []
    for key, value in node.system_attributes.items():
        if key in SHARED:
            if shown.get(key) == value:
                continue
            shown[key] = value
        out.append((key, value))
    return out


def span_label(node: SpanNode) -> Text:
    """A span's line in the tree (the browser's tree shows the same)."""
    s = node.span
    t = Text()
    if node.call_number is not None:
        t.append(f"#{node.call_number} ", style="bold")
    if node.is_call:
        t.append("embeddings " if node.kind == "embedding" else "chat ", style="bold")
        t.append(one_line(s.get("model") or "?"), style="magenta")
        name = s.get("name")
        if name and not _default_call_name(name):
            t.append(f" ({one_line(name, 40)})", style="dim")
    else:
        t.append(f"{node.kind} ", style="bold blue")
        t.append(one_line(s.get("name") or s.get("tool_name") or "", 60))
    for part in _metrics(s):
        t.append(" · " + part)
    if s.get("cache_status") and s.get("cache_status") not in ("DISABLED",):
        hit = "HIT" in s["cache_status"] and "MISS" not in s["cache_status"]
        t.append(" · cache ")
        t.append(one_line(s["cache_status"]), style="bold green" if hit else "dim")
    if s.get("retries"):
        t.append(" · ")
        t.append(_count(s["retries"], "retry", "retries"), style="yellow")
    if s.get("status") == "error":
        t.append(" · ")
        t.append("error" + (f" {s['http_status']}" if s.get("http_status") else ""), style="bold red")
        if s.get("error"):
            t.append(": " + one_line(s["error"], PREVIEW), style="red")
    return t


# Span names that only repeat the operation and model (GenAI `chat {model}`, gateway defaults).
_DEFAULT_NAME = re.compile(r"^(chat|embeddings|text_completion|generate_content|completion)( \S+)?$")


def _default_call_name(name: str) -> bool:
    return bool(_DEFAULT_NAME.match(name))


def _metrics(s: dict[str, Any]) -> list[str]:
    out = []
    p, c = s.get("prompt_tokens"), s.get("completion_tokens")
    if p is not None or c is not None:
        out.append(f"{int(p or 0):,} in / {int(c or 0):,} out tok")
    elif s.get("total_tokens"):
        out.append(f"{int(s['total_tokens']):,} tok")
    if s.get("cost_usd") is not None:
        out.append(format_cost(float(s["cost_usd"])) + (" (est.)" if s.get("cost_source") == "computed" else ""))
    elif s.get("cost_source") == "unpriced":
        out.append("unpriced")
    if s.get("duration_ms") is not None:
        out.append(format_ms(float(s["duration_ms"])))
    return out


def _add_tool_call(branch: Tree, call: ToolCall, full: bool) -> None:
    t = Text("tool ", style="bold yellow")
    t.append(one_line(call.signature, 0 if full else PREVIEW))
    t.append(" → ", style="bold")
    if call.result is None:
        t.append("(no result recorded)", style="dim")
    else:
        t.append(safe(call.result) if full else one_line(call.result, PREVIEW), style="green")
    for part in _tool_tail(call):
        t.append(" · " + part, style="bold red" if part == "error" else "dim")
    branch.add(t)


def _tool_tail(call: ToolCall) -> list[str]:
    """What the span that ran the tool says: how long it took, whether it failed."""
    span = call.tool_span or {}
    return [*([format_ms(float(span["duration_ms"]))] if span.get("duration_ms") is not None else []),
            *(["error"] if span.get("status") == "error" else [])]


def message_label(message: dict[str, Any]) -> Text:
    """A message as `role: text`, for the tree's full view and the browser's detail."""
    role = str(message.get("role") or message.get("type") or "message")
    t = Text(f"{one_line(role)}: ", style="bold")
    if role == "tool":
        t.append(f"[{one_line(message.get('tool_call_id'))}] ", style="dim")
    text = message_text(message)
    t.append(safe(text if text is not None else "(tool calls)"))
    return t


def markdown(tree: TraceTree, *, full: bool = False) -> str:
    """`show --format markdown`, for $GITHUB_STEP_SUMMARY or a PR comment: the header line as
    a paragraph, then the tree as a nested list (each LLM call, the tool calls it asked for with
    their arguments and results, the steps below it), and the answer last. The items say what
    the table's lines say, one line each; `full` adds the messages, the assistant's text and
    the system attributes, and cuts nothing. Log text is escaped, calls and results are code."""
    s = tree.summary
    title = "trace " + one_line(s.get("trace_id"))
    lines = [f"**{md(title)}** {md(root_label(s).plain[len(title):])}", ""]  # the rest: " · …"
    shown: dict[str, str] = {}
    for node in tree.roots:
        _markdown_node(lines, node, "", full, shown)
    if tree.answer:
        lines.append("- **answer:** " + md(tree.answer))
    return "\n".join(lines) + "\n"


def _markdown_node(lines: list[str], node: SpanNode, indent: str, full: bool,
                   shown: dict[str, str]) -> None:
    lines.append(f"{indent}- {md(span_label(node).plain)}")
    inner = indent + "  "
    if full:
        lines.extend(f"{inner}- {md(key)}: {md(value)}" for key, value in _system_attributes(node, shown))
    if full and node.is_call:
        lines.extend(f"{inner}- {md(message_label(m).plain)}" for m in node.new_messages)
    for call in node.tool_calls:
        limit = 0 if full else PREVIEW
        result = ("(no result recorded)" if call.result is None
                  else markdown_code(call.result, limit))
        tail = "".join(" · " + part for part in _tool_tail(call))
        lines.append(f"{inner}- tool {markdown_code(call.signature, limit)} → {result}{tail}")
    if node.kind == "llm" and node.output_text and full:
        lines.append(f"{inner}- assistant: {md(node.output_text)}")
    for child in node.children:
        _markdown_node(lines, child, inner, full, shown)


def document(tree: TraceTree) -> dict[str, Any]:
    """`show --format json`: the documented shape (read.tree.to_dict), its money rounded as
    every machine format rounds it (render.output.money)."""
    doc = to_dict(tree)
    doc["trace"] = {**doc["trace"], "cost_usd": money(doc["trace"].get("cost_usd"))}
    doc["spans"] = [_node_money(n) for n in doc["spans"]]
    return doc


def _node_money(node: dict[str, Any]) -> dict[str, Any]:
    return {**node, "cost_usd": money(node.get("cost_usd")),
            "children": [_node_money(c) for c in node["children"]]}
