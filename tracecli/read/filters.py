"""The filters every read command shares (time, model, tag, status, cost, text), parsed from
what users type and turned into WHERE clauses whose values are all parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tracecli.errors import ExitCode, TraceCliError

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, option: str, now: datetime | None = None) -> datetime:
    """A naive UTC datetime, as the store keeps them."""
    now = now or datetime.now(UTC)
    age = _AGE.match(text)
    if age:
        delta = timedelta(**{_UNITS[age.group(2).lower()]: float(age.group(1))})
        return (now - delta).astimezone(UTC).replace(tzinfo=None)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TraceCliError(
            f"{option} {text!r}: expected an ISO date/time (2025-03-04, 2025-03-04T10:15) "
            "or an age (30m, 24h, 7d)",
            ExitCode.USAGE,
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
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


def parse_tags(pairs: list[str] | None) -> list[tuple[str, str]]:
    out = []
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TraceCliError(f"--tag {pair!r}: expected KEY=VALUE", ExitCode.USAGE)
        out.append((key, value))
    return out


class Where:
    """Accumulates WHERE clauses with their parameters, in order."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"


def trace_where(f: Filters) -> Where:
    """Clauses over trace_summary (alias t)."""
    w = Where()
    if f.since:
        w.add("t.start_time >= ?", f.since)
    if f.until:
        w.add("t.start_time < ?", f.until)
    for model in f.models:
        w.add("list_contains(t.models, ?)", model)
    for key, value in f.tags:
        w.add("map_extract_value(t.tags, ?) = ?", key, value)
    if f.status:
        w.add("t.status = ?", f.status)
    if f.min_cost is not None:
        w.add("coalesce(t.cost_usd, 0) >= ?", f.min_cost)
    if f.search:
        w.add(
            "t.trace_id IN (SELECT trace_id FROM spans WHERE contains(lower(CAST(request AS VARCHAR)), lower(?)) "
            "OR contains(lower(CAST(response AS VARCHAR)), lower(?)) OR contains(lower(error), lower(?)))",
            f.search, f.search, f.search,
        )
    return w


def span_where(f: Filters, alias: str = "s") -> Where:
    """Clauses over spans."""
    w = Where()
    if f.since:
        w.add(f"{alias}.start_time >= ?", f.since)
    if f.until:
        w.add(f"{alias}.start_time < ?", f.until)
    if f.models:
        w.add(f"{alias}.model IN (SELECT unnest(?::VARCHAR[]))", f.models)
    for key, value in f.tags:
        w.add(f"map_extract_value({alias}.metadata, ?) = ?", key, value)
    if f.status:
        w.add(f"{alias}.status = ?", f.status)
    if f.search:
        w.add(f"(contains(lower(CAST({alias}.request AS VARCHAR)), lower(?)) OR "
              f"contains(lower(CAST({alias}.response AS VARCHAR)), lower(?)))", f.search, f.search)
    return w
