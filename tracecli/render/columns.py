"""The columns each listing shows, shared by the commands that list the same rows."""

from __future__ import annotations

from typing import Any

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
    Column("feedback_score", "feedback", "score", votes="feedback_count"),
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
    Column("lines", "detail", "labelled"),
]

FORMATS = [Column("name", "format"), Column("description", "reads")]

STORE = [
    Column("path", "store"),
    Column("size_bytes", "bytes", "int"),
    Column("schema_version", "schema", "int"),
    Column("spans", "spans", "int"),
    Column("traces", "traces", "int"),
    Column("ingests", "ingests", "int"),
    Column("first_span", "first span (UTC)", "time"),
    Column("last_span", "last span (UTC)", "time"),
    Column("formats", "formats", "map"),
]

FEEDBACK = [
    Column("trace_id", "trace"),
    Column("value", "value", "score"),
    Column("weight", "weight", "float"),
    Column("created_at", "at (UTC)", "time"),
    Column("metadata", "metadata", "map", width=40),
    Column("source_file", "from", width=40),
]


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


def stats(label: str) -> list[Column]:
    """Per-group metrics, flat: a nested JSON field is the column `parent.child` (`flatten`)."""
    return [
        Column("group", label),
        Column("calls", "calls", "int"),
        Column("errors", "errors", "int"),
        Column("error_rate", "err %", "percent"),
        *(Column(f"latency_ms.{q}", q, "ms") for q in ("p50", "p90", "p95", "p99", "max")),
        Column("prompt_tokens", "in tok", "int"),
        Column("completion_tokens", "out tok", "int"),
        Column("cached_tokens", "cached tok", "int"),
        Column("cost_usd", "cost (USD)", "cost"),
        Column("unpriced_calls", "unpriced", "int"),
        Column("cache.hits", "hits", "int"),
        Column("cache.semantic_hits", "sem hits", "int"),
        Column("cache.hit_rate", "hit %", "percent"),
        Column("cache.saved_usd", "hits saved", "cost"),
        Column("cache.prompt_saved_usd", "prompt cache saved", "cost"),
        Column("retries.calls_retried", "retried", "int"),
        Column("retries.total", "retries", "int"),
        Column("feedback_mean", "feedback", "score", votes="feedback_count"),
    ]


# The money of the stats JSON by key, at any depth: emit rounds the values of cost columns' keys.
STATS_MONEY = [Column(key, key, "cost") for key in ("cost_usd", "saved_usd", "prompt_saved_usd")]


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """A row's nested objects as `parent.child` keys, for the formats that show columns."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


CHECKS = [
    Column("name", "check"),
    Column("budget", "budget"),
    Column("scope", "scope"),
    Column("limit", "limit"),
    Column("measured", "measured"),
    Column("unit", "unit"),
    Column("result", "result"),
    Column("detail", "detail"),
]

# `show --waterfall` in machine formats: a span per row, offsets from the trace's start.
WATERFALL = [
    Column("span_id", "span"),
    Column("parent_span_id", "parent"),
    Column("depth", "depth", "int"),
    Column("label", "label"),
    Column("kind", "kind"),
    Column("start_offset_ms", "start (ms)", "float"),
    Column("duration_ms", "duration (ms)", "float"),
    Column("end_offset_ms", "end (ms)", "float"),
    Column("critical", "critical"),
    Column("tokens", "tokens", "int"),
    Column("cost_usd", "cost", "cost"),
    Column("status", "status"),
    Column("retries", "retries", "int"),
]
