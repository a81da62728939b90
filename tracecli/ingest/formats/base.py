"""What a source-format reader is: detection on a peeked record, and a SQL mapping to spans."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from tracecli.sql.template import fill, ident, literal

CostUnit = Literal["cents", "usd"]


@dataclass(frozen=True)
class ReadOptions:
    portkey_cost_unit: CostUnit = "cents"
    redact: bool = True  # mask secrets in log content before it reaches the store


@dataclass
class Keys:
    """A record's top-level keys, as one relation declares them (`types`: column → DuckDB type),
    for a reader's claim to test. Notes which keys a claim reads, and which as JSON (`used`):
    those must be declared JSON by every reader, so that every relation can test them alike."""

    types: Mapping[str, str]
    used: dict[str, bool] = field(default_factory=dict)

    def has(self, *keys: str) -> str:
        """SQL: the record holds any of these keys (a JSON null holds nothing)."""
        for key in keys:
            self.used.setdefault(key, False)
        return "(" + " OR ".join(fill("{{k}} IS NOT NULL", k=ident(k)) for k in keys) + ")"

    def count(self, keys: Iterable[str]) -> str:
        """SQL: how many of these keys the record holds."""
        return "(" + " + ".join(fill("{{has}}::INTEGER", has=self.has(k)) for k in keys) + ")"

    def text(self, key: str) -> str:
        """SQL: the key's value as text (a JSON string unquoted)."""
        self.used.setdefault(key, False)
        if self.types.get(key, "JSON") == "JSON":
            return fill("({{k}}->>'$')", k=ident(key))
        return ident(key)

    def json(self, key: str) -> str:
        """SQL: the key's value as JSON, for tests of its type or of what it holds."""
        self.used[key] = True
        if self.types.get(key, "JSON") != "JSON":
            raise TypeError(f"a claim tests {key!r} as JSON; declare it JSON ({self.types[key]})")
        return ident(key)

    def is_a(self, key: str, *json_types: str) -> str:
        """SQL: the key's value is of one of these JSON types (OBJECT, ARRAY, VARCHAR, …)."""
        return fill("coalesce(json_type({{v}}) IN ({{types}}), false)", v=self.json(key),
                    types=", ".join(literal(t) for t in json_types))

    def one_of(self, key: str, values: Iterable[str]) -> str:
        """SQL: the key's text is one of `values`."""
        return fill("coalesce({{v}} IN ({{values}}), false)", v=self.text(key),
                    values=", ".join(literal(v) for v in sorted(values)))


# SQL, true of the records a reader reads, from their top-level keys (see Keys). Claims are tried
# in the registry's order: a record goes to the first reader that claims it.
Claim = Callable[[Keys], str]


@dataclass(frozen=True)
class Reader:
    """A source format.

    `columns` are declared to DuckDB's read_json (no sniffing; unknown keys are ignored), and
    `select` returns a SELECT over the relation `src` — those columns plus `_row` (1-based record
    number) and `_file` (the file's label) — yielding canonical span columns (see store.SPAN_COLUMNS)
    but `source_format`, or the columns of `table` for readers of other records (user feedback).
    `claims` says, in SQL, which records are this format's (tracecli.ingest.routing)."""

    name: str
    description: str
    claims: Claim
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
