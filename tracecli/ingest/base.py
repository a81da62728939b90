"""What a source-format reader is: detection on a peeked record, and a SQL mapping to spans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

CostUnit = Literal["cents", "usd"]


@dataclass(frozen=True)
class ReadOptions:
    portkey_cost_unit: CostUnit = "cents"
    redact: bool = True  # mask secrets in log content before it reaches the store


@dataclass(frozen=True)
class Reader:
    """A source format.

    `columns` are declared to DuckDB's read_json (no sniffing; unknown keys are ignored), and
    `select` returns a SELECT over the relation `src` — those columns plus `_row` (1-based record
    number) and `_file` (the file's label) — yielding canonical span columns (see store.SPAN_COLUMNS),
    or the columns of `table` for readers of other records (user feedback)."""

    name: str
    description: str
    detect: Callable[[dict[str, Any]], bool]
    columns: dict[str, str]
    select: Callable[[ReadOptions], str]
    table: str = "spans"  # the store table its rows go to (feedback readers: "feedback")


def columns_literal(columns: dict[str, str]) -> str:
    """The STRUCT literal read_json takes. Names and types are the reader's constants."""
    items = ", ".join(f"'{name}': '{ctype}'" for name, ctype in columns.items())
    return "{" + items + "}"


def q(name: str) -> str:
    """Quote a declared column name (several contain dots)."""
    return '"' + name.replace('"', '""') + '"'
