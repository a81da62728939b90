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
    # Each record maps to one row and carries its own id: JSON files of such records are read in
    # parallel and not numbered (`_row` is NULL; tracecli.ingest.pipeline says why).
    row_per_record: bool = False


# Usage and cost columns for readers whose spans are not all calls: the CTE must name the kind
# `knd`, tokens `p_tok`, `c_tok`, `cache_tok`, `t_tok` and the logged cost `cost`.
CALL_USAGE = """CASE WHEN knd IN ('llm', 'embedding') THEN p_tok END AS prompt_tokens,
  CASE WHEN knd IN ('llm', 'embedding') THEN c_tok END AS completion_tokens,
  CASE WHEN knd IN ('llm', 'embedding') THEN cache_tok END AS cached_tokens,
  CASE WHEN knd IN ('llm', 'embedding') THEN coalesce(t_tok, p_tok + coalesce(c_tok, 0)) END AS total_tokens,
  CASE WHEN knd IN ('llm', 'embedding') THEN cost END AS cost_usd,
  CASE WHEN knd IN ('llm', 'embedding') AND cost IS NOT NULL THEN 'logged' END AS cost_source"""


def columns_literal(columns: dict[str, str]) -> str:
    """The STRUCT literal read_json takes. Names and types are the reader's constants."""
    items = ", ".join(f"'{name}': '{ctype}'" for name, ctype in columns.items())
    return "{" + items + "}"


def q(name: str) -> str:
    """Quote a declared column name (several contain dots)."""
    return '"' + name.replace('"', '""') + '"'
