"""The filters every read command shares (time, model, tag, status, cost, text), parsed from
what users type and turned into WHERE clauses whose values are all parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tracecli.errors import ExitCode, TraceCliError
from tracecli.sql.template import fill, merge

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, option: str, now: datetime | None = None) -> datetime:
    """A naive UTC datetime, as the store keeps them."""
    now = now or datetime.now(UTC)
    age = _AGE.match(text)
    try:
        if age:
            delta = timedelta(**{_UNITS[age.group(2).lower()]: float(age.group(1))})
            return (now - delta).astimezone(UTC).replace(tzinfo=None)
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        raise TraceCliError(
            f"{option} {text!r}: expected an ISO date/time (2025-03-04, 2025-03-04T10:15) "
            "or an age (30m, 24h, 7d)",
            ExitCode.USAGE,
        ) from None
    except OverflowError:  # an age reaching back before year 1, or a date past 9999 in UTC
        raise TraceCliError(f"{option} {text!r}: out of range (years 1 to 9999)",
                            ExitCode.USAGE) from None
    return value


@dataclass
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    models: list[str] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None
    min_cost: float | None = None
    search: str | None = None
    min_score: float | None = None  # user feedback: traces without any never match these
    max_score: float | None = None


def parse_tags(pairs: list[str] | None, option: str = "--tag") -> list[tuple[str, str]]:
    out = []
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TraceCliError(f"{option} {pair!r}: expected KEY=VALUE", ExitCode.USAGE)
        out.append((key, value))
    return out


class Where:
    """WHERE clauses with their named parameters; each clause names its own (`$since`,
    `$model_0`), so that clauses combine in any order and a name given twice fails."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: dict[str, Any] = {}

    def add(self, clause: str, **params: Any) -> None:
        self.clauses.append(clause)
        self.params = merge(self.params, params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"


# User feedback per trace (Portkey's model): the weighted mean of its values (score), and how
# many records it has (n). A trace whose weights are all 0 has no score.
FEEDBACK_SCORES = """SELECT trace_id, fsum(value * weight) / nullif(fsum(weight), 0) AS score,
       count(*) AS n FROM feedback GROUP BY trace_id"""


def trace_where(f: Filters) -> Where:
    """Clauses over trace_summary (alias t)."""
    w = _within("t.start_time", f)
    for i, model in enumerate(f.models):  # a trace has every model asked for
        name = f"model_{i}"
        w.add(fill("list_contains(t.models, ${{name}})", name=name), **{name: model})
    _tags(w, "t.tags", f.tags)
    if f.status:
        w.add("t.status = $status", status=f.status)
    if f.min_cost is not None:
        w.add("coalesce(t.cost_usd, 0) >= $min_cost", min_cost=f.min_cost)
    _scores(w, f)
    if f.search:
        w.add("t.trace_id IN (SELECT trace_id FROM spans WHERE contains(lower(CAST(request AS VARCHAR)), lower($search)) "
              "OR contains(lower(CAST(response AS VARCHAR)), lower($search)) OR contains(lower(error), lower($search)))",
              search=f.search)
    return w


def _scores(w: Where, f: Filters) -> None:
    """--min-score/--max-score: traces whose feedback score is within them."""
    bounds = [(op, name, v) for op, name, v in ((">=", "min_score", f.min_score),
                                                ("<=", "max_score", f.max_score)) if v is not None]
    if bounds:
        held = " AND ".join(fill("score {{op}} ${{name}}", op=op, name=name) for op, name, _ in bounds)
        w.add(fill("t.trace_id IN (SELECT trace_id FROM ({{scores}}) WHERE {{held}})",
                   scores=FEEDBACK_SCORES, held=held), **{name: v for _, name, v in bounds})


def span_where(f: Filters) -> Where:
    """Clauses over spans (alias s)."""
    w = _within("s.start_time", f)
    if f.models:  # a call to any model asked for
        w.add("s.model IN (SELECT unnest($models::VARCHAR[]))", models=f.models)
    _tags(w, "s.metadata", f.tags)
    if f.status:
        w.add("s.status = $status", status=f.status)
    if f.search:
        w.add("(contains(lower(CAST(s.request AS VARCHAR)), lower($search)) OR "
              "contains(lower(CAST(s.response AS VARCHAR)), lower($search)))", search=f.search)
    return w


def _within(column: str, f: Filters) -> Where:
    """The clauses of --since and --until over the `column` time (a trace's or a span's start)."""
    w = Where()
    if f.since:
        w.add(fill("{{column}} >= $since", column=column), since=f.since)
    if f.until:
        w.add(fill("{{column}} < $until", column=column), until=f.until)
    return w


def _tags(w: Where, column: str, tags: list[tuple[str, str]]) -> None:
    """Every KEY=VALUE must match: one clause per tag over the `column` map."""
    for i, (key, value) in enumerate(tags):
        k, v = f"tag_key_{i}", f"tag_value_{i}"
        w.add(fill("map_extract_value({{tags}}, ${{k}}) = ${{v}}", tags=column, k=k, v=v),
              **{k: key, v: value})
