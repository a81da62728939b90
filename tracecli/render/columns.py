"""The columns each listing shows, shared by the commands that list the same rows."""

from __future__ import annotations

from tracecli.render.output import Column

TRACES = [
    Column("trace_id", "trace"),
    Column("start_time", "start (UTC)", "time"),
    Column("duration_ms", "duration", "ms"),
    Column("llm_calls", "LLM", "int"),
    Column("tool_calls", "tools", "int"),
    Column("models", "models", "list", width=28),
    Column("total_tokens", "tokens", "int"),
    Column("cost_usd", "cost", "cost"),
    Column("status", "status"),
    Column("feedback_score", "feedback", "float"),
    Column("tags", "tags", "map", width=40),
]

SPANS = [
    Column("trace_id", "trace"),
    Column("span_id", "span"),
    Column("kind", "kind"),
    Column("name", "name", width=30),
    Column("start_time", "start (UTC)", "time"),
    Column("duration_ms", "duration", "ms"),
    Column("model", "model"),
    Column("total_tokens", "tokens", "int"),
    Column("cost_usd", "cost", "cost"),
    Column("status", "status"),
]

REPLAY_STEPS = [
    Column("at_ms", "at (ms)", "float"),
    Column("kind", "kind"),
    Column("call_number", "call", "int"),
    Column("title", "step"),
    Column("lines", "detail"),
]

FORMATS = [Column("name", "format"), Column("description", "reads")]


def cost(label: str) -> list[Column]:
    """Cost totals, headed by what they are grouped by."""
    return [
        Column("group", label),
        Column("calls", "calls", "int"),
        Column("prompt_tokens", "in tok", "int"),
        Column("completion_tokens", "out tok", "int"),
        Column("total_tokens", "tokens", "int"),
        Column("cost_usd", "cost (USD)", "cost"),
        Column("logged", "logged", "int"),
        Column("computed", "computed", "int"),
        Column("unpriced", "unpriced", "int"),
    ]
