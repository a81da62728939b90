"""Budget check rows as each format shows them: people get limits and measured values in their
units; machines get numbers, money rounded as everywhere (`money`, `money_text` for CSV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracecli.render.output import OutputFormat, format_cost, format_ms, money, money_text

_SHOWN: dict[str, Callable[[float], str]] = {
    "usd": format_cost, "ms": format_ms, "ratio": lambda v: f"{v:.1%}", "tokens": lambda v: f"{v:,.0f}",
}


def for_format(rows: list[dict[str, Any]], fmt: OutputFormat) -> list[dict[str, Any]]:
    """Check rows with their limit and measured value as `fmt` writes them."""
    if fmt in (OutputFormat.table, OutputFormat.markdown):
        return [_values(r, _SHOWN[r["unit"]], "—") for r in rows]
    if fmt is OutputFormat.csv:
        return [_values(r, money_text, "") if r["unit"] == "usd" else r for r in rows]
    return [_values(r, money, None) if r["unit"] == "usd" else r for r in rows]


def _values(row: dict[str, Any], show: Callable[[float], Any], unknown: Any) -> dict[str, Any]:
    return {**row, "limit": show(row["limit"]),
            "measured": unknown if row["measured"] is None else show(row["measured"])}
