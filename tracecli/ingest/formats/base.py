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
    number) and `_file` (the file's label) — yielding canonical span columns (see store.SPAN_COLUMNS)
    but `source_format`, or the columns of `table` for readers of other records (user feedback)."""

    name: str
    description: str
    detect: Callable[[dict[str, Any]], bool]
    columns: dict[str, str]
    select: Callable[[ReadOptions], str]
    table: str = "spans"  # the store table its rows go to (feedback readers: "feedback")
    # Each record maps to one row and carries its own id: JSON files of such records are read in
    # parallel and not numbered (`_row` is NULL; tracecli.ingest.pipeline says why).
    row_per_record: bool = False
    # Its rows name their own source_format (a re-ingested export keeps the format it came
    # from); otherwise the pipeline writes the reader's name there.
    carries_source_format: bool = False

    @property
    def stamped_format(self) -> str | None:
        """The source_format the pipeline gives this reader's rows, if it gives one."""
        if self.carries_source_format or self.table != "spans":
            return None
        return self.name


# Usage and cost columns for readers whose spans are not all calls: the CTE must name the kind
# `knd`, tokens `p_tok`, `c_tok`, `cache_tok`, `t_tok` and the logged cost `cost`.
CALL_USAGE = """CASE WHEN tc_is_call(knd) THEN p_tok END AS prompt_tokens,
  CASE WHEN tc_is_call(knd) THEN c_tok END AS completion_tokens,
  CASE WHEN tc_is_call(knd) THEN cache_tok END AS cached_tokens,
  CASE WHEN tc_is_call(knd) THEN tc_total_tokens(t_tok, p_tok, c_tok) END AS total_tokens,
  CASE WHEN tc_is_call(knd) THEN cost END AS cost_usd,
  CASE WHEN tc_is_call(knd) AND cost IS NOT NULL THEN 'logged' END AS cost_source"""
