"""Budgets for `tracecli check`: parsed from options or a TOML file, measured by the stats
(tracecli.read.stats), and judged. A CI step fails on a broken budget, and on input with no
calls, which would pass every budget otherwise."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.read.cost import Grouping
from tracecli.read.filters import Filters
from tracecli.read.stats import group_metrics

Metrics = tuple[list[dict[str, Any]], dict[str, Any]]  # per trace, and the total


def _usage(message: str) -> TraceCliError:
    return TraceCliError(message, ExitCode.USAGE)


def parse_money(value: Any, label: str) -> float:
    """USD: a number, or text such as `0.50` or `$0.50`."""
    text = str(value).strip().removeprefix("$") if isinstance(value, str) else value
    return _number(text, label, "an amount in USD such as 0.50 or $0.50")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$", re.IGNORECASE)
_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_duration(value: Any, label: str) -> float:
    """Milliseconds from a duration with its unit: `1500ms`, `8s`, `2m`."""
    found = _DURATION.match(value) if isinstance(value, str) else None
    if not found:
        raise _usage(f"{label} {value!r}: expected a duration with a unit, such as 1500ms, 8s or 2m")
    return float(found.group(1)) * _MS[found.group(2).lower()]


def parse_rate(value: Any, label: str) -> float:
    """A fraction from 0 to 1: `0.01`, or a percentage `1%`."""
    expected = "a fraction from 0 to 1 (0.01) or a percentage (1%)"
    if isinstance(value, str) and value.strip().endswith("%"):
        rate = _number(value.strip()[:-1], label, expected) / 100
    else:
        rate = _number(value, label, expected)
    if rate > 1:
        raise _usage(f"{label} {value!r}: expected {expected}")
    return rate


def parse_count(value: Any, label: str) -> float:
    """A whole number of tokens, at least 0."""
    try:
        count = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else -1
    except ValueError:
        count = -1
    if count < 0:
        raise _usage(f"{label} {value!r}: expected a whole number of tokens, such as 200000")
    return float(count)


def _number(value: Any, label: str, expected: str) -> float:
    """A finite number at least 0, from a number or its text."""
    try:
        number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise _usage(f"{label} {value!r}: expected {expected}")
    return number


def _total_tokens(total: dict[str, Any]) -> float | None:
    known = [t for t in (total["prompt_tokens"], total["completion_tokens"]) if t is not None]
    return float(sum(known)) if known else None


def _costliest_trace(metrics: Metrics) -> tuple[float | None, str]:
    """The highest cost of one trace, and which trace (rows come costliest first)."""
    rows = metrics[0]
    return (rows[0]["cost_usd"], f"trace {rows[0]['group']}") if rows else (None, "")


@dataclass(frozen=True)
class Kind:
    """A kind of budget: how its limit is read, what it measures, in which unit, which way."""

    parse: Callable[[Any, str], float]
    measure: Callable[[Metrics], tuple[float | None, str]]  # the value, and a note on it
    unit: str  # usd | ms | ratio | tokens
    at_most: bool = True  # a maximum (broken above it), else a minimum


def _total(pick: Callable[[dict[str, Any]], Any]) -> Callable[[Metrics], tuple[float | None, str]]:
    return lambda metrics: (pick(metrics[1]), "")


# Budget names as TOML keys; the options are the same with dashes (`--max-p95-latency`).
KINDS: dict[str, Kind] = {
    "max_cost": Kind(parse_money, _total(lambda t: t["cost_usd"]), "usd"),
    "max_cost_per_trace": Kind(parse_money, _costliest_trace, "usd"),
    "max_p95_latency": Kind(parse_duration, _total(lambda t: t["latency_ms"]["p95"]), "ms"),
    "max_error_rate": Kind(parse_rate, _total(lambda t: t["error_rate"]), "ratio"),
    "max_tokens": Kind(parse_count, _total(_total_tokens), "tokens"),
    "min_cache_hit_rate": Kind(parse_rate, _total(lambda t: t["cache"]["hit_rate"]), "ratio",
                               at_most=False),
}


def option(kind: str) -> str:
    """The option of a budget: `max_p95_latency` is `--max-p95-latency`."""
    return "--" + kind.replace("_", "-")


@dataclass(frozen=True)
class Check:
    """Named limits over the calls of one scope (`--where`: all of them must hold)."""

    name: str
    limits: dict[str, float]
    scope: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)


def parse_where(terms: list[str], label: str = "--where") -> Filters:
    """`model=MODEL` (repeated: any of them) and `tag:KEY=VALUE` (all of them) as filters."""
    models: list[str] = []
    tags: list[tuple[str, str]] = []
    for term in terms:
        key, sep, value = term.partition("=")
        if sep and key == "model" and value:
            models.append(value)
        elif sep and key.startswith("tag:") and len(key) > len("tag:"):
            tags.append((key[len("tag:"):], value))
        else:
            raise _usage(f"{label} {term!r}: expected model=MODEL or tag:KEY=VALUE")
    return Filters(models=models, tags=tags)


def from_options(values: Mapping[str, str | None], where: list[str]) -> Check | None:
    """The budgets given as options (one check), or None when there are none."""
    limits = {kind: KINDS[kind].parse(text, option(kind)) for kind, text in values.items()
              if text is not None}
    if not limits:
        if where:
            raise _usage("--where scopes the budgets given as options: give one, e.g. --max-cost 0.50")
        return None
    return Check("options", limits, tuple(where), parse_where(where))


_CHECK_KEYS = ("name", "where", *KINDS)


def from_file(path: str) -> list[Check]:
    """The named checks of a TOML budget file: `[[check]]` tables of `name`, an optional `where`
    table and limits keyed as KINDS names them."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise _usage(f"--budget {path}: cannot read it ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _usage(f"{path}: not valid TOML: {exc}") from None
    for key in document:
        if key != "check":
            raise _usage(f"{path}: unknown key {key!r} (a budget file holds [[check]] tables)")
    tables = document.get("check")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise _usage(f"{path}: no [[check]] tables")
    checks = [_check(path, i, table) for i, table in enumerate(tables, 1)]
    names = [c.name for c in checks]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _usage(f"{path}: two checks are named {twice[0]!r}")
    return checks


def _check(path: str, number: int, table: dict[str, Any]) -> Check:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _usage(f"{path}: check {number} needs a name (name = \"...\")")
    where = f"{path}: check {name!r}:"
    for key in table:
        if key not in _CHECK_KEYS:
            raise _usage(f"{where} unknown key {key!r} (known: {', '.join(_CHECK_KEYS)})")
    limits = {kind: KINDS[kind].parse(table[kind], f"{where} {kind}") for kind in KINDS if kind in table}
    if not limits:
        raise _usage(f"{where} no limit (one of {', '.join(KINDS)})")
    terms = _where_terms(table.get("where", {}), where)
    return Check(name, limits, tuple(terms), parse_where(terms, f"{where} where"))


def _where_terms(where: Any, label: str) -> list[str]:
    """A TOML `where` table (`{model = "gpt-4o", "tag:env" = "ci"}`, a model may be a list) as
    --where terms."""
    if not isinstance(where, dict):
        raise _usage(f"{label} where: expected a table such as {{model = \"gpt-4o\", \"tag:env\" = \"ci\"}}")
    terms: list[str] = []
    for key, value in where.items():
        values = value if key == "model" and isinstance(value, list) else [value]
        if key != "model" and not key.startswith("tag:"):
            raise _usage(f"{label} where: unknown key {key!r} (known: model, tag:KEY)")
        if not all(isinstance(v, str) for v in values):
            raise _usage(f"{label} where.{key}: expected a string")
        terms += [f"{key}={v}" for v in values]
    return terms


def evaluate(con: duckdb.DuckDBPyConnection, checks: list[Check],
             allow_empty: bool) -> tuple[list[dict[str, Any]], int]:
    """One row per limit of each check, and how many calls the whole input holds. A scope without
    calls fails unless `allow_empty`; so does a value no call logged (latency nobody timed)."""
    measured: dict[tuple[str, ...], Metrics] = {}

    def metrics(scope: tuple[str, ...], filters: Filters) -> Metrics:
        if scope not in measured:  # one query per scope, whatever it is asked
            measured[scope] = group_metrics(con, Grouping("trace"), filters)
        return measured[scope]

    rows = [_judged(check, kind, limit, metrics(check.scope, check.filters), allow_empty)
            for check in checks for kind, limit in check.limits.items()]
    return rows, int(metrics((), Filters())[1]["calls"])


def _judged(check: Check, kind: str, limit: float, metrics: Metrics,
            allow_empty: bool) -> dict[str, Any]:
    k = KINDS[kind]
    total = metrics[1]
    value, note = k.measure(metrics) if total["calls"] else (None, "no LLM calls in scope")
    if value is None:
        passed = allow_empty and not total["calls"]
        note = note or "not measured: no call logged it"
    else:
        # equal to the limit within float noise (a sum of costs) is at the limit, not past it
        passed = math.isclose(value, limit, rel_tol=1e-9) or (value < limit if k.at_most else value > limit)
    unpriced = total["unpriced_calls"]
    if kind in ("max_cost", "max_cost_per_trace") and unpriced:
        note = "; ".join(filter(None, [note, f"{unpriced:,} unpriced call{'s' if unpriced > 1 else ''} not counted"]))
    return {"name": check.name, "budget": kind, "scope": " ".join(check.scope) or "all calls",
            "limit": limit, "measured": value, "unit": k.unit,
            "result": "pass" if passed else "fail", "detail": note}
