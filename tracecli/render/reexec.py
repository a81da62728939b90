"""Rows for the recorded-vs-live comparison of `replay --endpoint`."""

from __future__ import annotations

import json
from typing import Any

from tracecli.read.reexec import Comparison, Outcome
from tracecli.render.output import Column

COLUMNS = [
    Column("call", "call", "int"),
    Column("model", "model"),
    Column("recorded", "recorded", width=50),
    Column("live", "live", width=50),
    Column("match", "match"),
    Column("recorded_tokens", "rec tok", "int"),
    Column("live_tokens", "live tok", "int"),
    Column("recorded_ms", "rec", "ms"),
    Column("live_ms", "live", "ms"),
]


def _said(o: Outcome) -> str:
    if o.error:
        return f"error: {o.error}"
    parts = list(o.tools)
    if o.text:
        parts.append(json.dumps(o.text, ensure_ascii=False))  # quoted as JSON, never a Python repr
    return "; ".join(parts) or "(empty)"


def _tokens(o: Outcome) -> int | None:
    if o.prompt_tokens is None and o.completion_tokens is None:
        return None
    return (o.prompt_tokens or 0) + (o.completion_tokens or 0)


def rows(results: list[Comparison]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        match = "same" if r.same_tools and r.same_text else (
            "same tools" if r.same_tools and r.recorded.tools else "differs")
        out.append({"call": r.call_number, "model": r.model, "recorded": _said(r.recorded),
                    "live": _said(r.live), "match": match + ("; " + "; ".join(r.notes) if r.notes else ""),
                    "recorded_tokens": _tokens(r.recorded), "live_tokens": _tokens(r.live),
                    "recorded_ms": r.recorded.duration_ms, "live_ms": r.live.duration_ms})
    return out
