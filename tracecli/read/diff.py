"""Two runs compared: their metrics per model and per tag side by side (from tracecli.read.stats),
and each agent task both ran aligned step by step, down to the first step where they part.

A side is a store (its own, or one both share) and the filters that select the run in it. The
two sides may live in different stores, so what is compared across them is compared here, on
the few rows each store answers: metrics per group, and one task's steps."""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.read.cost import Grouping
from tracecli.read.filters import Filters, trace_where
from tracecli.read.listing import rows_of
from tracecli.read.messages import call_signature
from tracecli.read.stats import group_metrics
from tracecli.read.tree import SpanNode, build
from tracecli.sql.template import fill, merge


@dataclass(frozen=True)
class Side:
    """One run to compare: a label for messages and output, its store, and what selects it."""

    label: str
    con: duckdb.DuckDBPyConnection
    filters: Filters


# ---------------------------------------------------------------------------- numbers

# Digits every compared number keeps, so that float noise never shows: as many as money keeps in
# every format (render.output.MONEY_DIGITS), for latencies and ratios too.
SIGNIFICANT = 10


def rounded(value: float | None) -> float | None:
    """A float to SIGNIFICANT digits (0.00016349999999999998 -> 0.0001635), never -0; None stays."""
    return None if value is None else float(f"{value:.{SIGNIFICANT}g}") + 0.0


def _decimal(value: float | int) -> Decimal:
    return Decimal(repr(rounded(float(value))))


def change(base: float | int | None, head: float | int | None) -> tuple[float | None, float | None]:
    """Head less base, and that as a percentage of base, in decimal arithmetic on the two values
    as printed (so $0.0001635 -> $0.000184 changes by exactly 0.0000205). The percentage is None
    when base is 0 (or either side unknown): no ratio says how much more something is than nothing."""
    if base is None or head is None:
        return None, None
    delta = _decimal(head) - _decimal(base)
    pct = None if base == 0 else rounded(float(delta / _decimal(base) * 100))
    if isinstance(base, int) and isinstance(head, int):
        return head - base, pct  # counts stay counts
    return rounded(float(delta)), pct


# ---------------------------------------------------------------------------- metrics

# The compared metrics, by their JSON names, in output order.
METRICS = ("calls", "tokens", "cost_usd", "p50_ms", "p95_ms", "error_rate")


def _values(row: dict[str, Any] | None) -> dict[str, Any]:
    """The compared metrics of a stats row; a group one side lacks has no calls, tokens or cost
    there, and no latency or error rate."""
    if row is None:
        return {"calls": 0, "tokens": 0, "cost_usd": 0.0, "p50_ms": None, "p95_ms": None,
                "error_rate": None}
    prompt, completion = row.get("prompt_tokens"), row.get("completion_tokens")
    tokens = None if prompt is None and completion is None else (prompt or 0) + (completion or 0)
    latency = row.get("latency_ms") or {}
    return {"calls": row["calls"], "tokens": tokens, "cost_usd": rounded(row["cost_usd"]),
            "p50_ms": rounded(latency.get("p50")), "p95_ms": rounded(latency.get("p95")),
            "error_rate": rounded(row.get("error_rate"))}


def compared(base: dict[str, Any] | None, head: dict[str, Any] | None) -> dict[str, Any]:
    """`{metric: {base, head, change, change_pct}}` of two stats rows (either may be missing)."""
    b, h = _values(base), _values(head)
    out: dict[str, Any] = {}
    for metric in METRICS:
        delta, pct = change(b[metric], h[metric])
        out[metric] = {"base": b[metric], "head": h[metric], "change": delta, "change_pct": pct}
    return out


def _grouped(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of every group either side has, base's order first, then groups new in head."""
    b = {r["group"]: r for r in base}
    h = {r["group"]: r for r in head}
    groups = [*b, *(g for g in h if g not in b)]
    return [{"group": g, **compared(b.get(g), h.get(g))} for g in groups]


@dataclass(frozen=True)
class Metrics:
    total: dict[str, Any]
    models: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    base_calls: int
    head_calls: int


def metrics(base: Side, head: Side) -> Metrics:
    """Both sides' metrics in all, per model and per tag (every key=value pair), compared."""
    sides = (base, head)
    by_model = [group_metrics(s.con, Grouping("model"), s.filters) for s in sides]
    totals = [total for _, total in by_model]
    for side, total in zip(sides, totals, strict=True):
        if not total["calls"]:
            raise TraceCliError(f"{side.label} holds no LLM calls: nothing to compare")
    by_tag = [group_metrics(s.con, Grouping("tag"), s.filters)[0] for s in sides]
    return Metrics(compared(*totals), _grouped(by_model[0][0], by_model[1][0]),
                   _grouped(*by_tag), totals[0]["calls"], totals[1]["calls"])


# ---------------------------------------------------------------------------- tasks

MatchBy = Literal["message", "name", "id", "tag"]
MATCH_WORDS: tuple[MatchBy, ...] = ("message", "name", "id")


@dataclass(frozen=True)
class Match:
    """How a task in base is found in head: by the first user message (default), the trace's
    name (its first root span's), its id, or a tag's value."""

    by: MatchBy
    tag_key: str | None = None

    @property
    def label(self) -> str:
        return f"tag:{self.tag_key}" if self.tag_key else self.by


def parse_match(text: str) -> Match:
    """`message`, `name`, `id`, `tag:KEY`, or a bare KEY for a tag."""
    if text in MATCH_WORDS:
        return Match(text)
    key = text.removeprefix("tag:")
    if not key:
        raise TraceCliError(f"--match {text!r}: expected message, name, id, tag:KEY or a tag KEY",
                            ExitCode.USAGE)
    return Match("tag", key)


# Each selected trace with its task key, and which of the traces with that key it is (1st, 2nd,
# ... by start): the k-th base trace of a task meets the k-th head trace of it. A trace's first
# LLM request gives its first user message; its first span without a parent, its name.
_TASKS = """
WITH picked AS (SELECT t.trace_id, t.start_time, t.tags FROM trace_summary t WHERE {{where}}),
firsts AS (
  SELECT trace_id,
         first(request ORDER BY start_time NULLS LAST, source_file, source_row, span_id)
           FILTER (WHERE kind = 'llm') AS request,
         first(name ORDER BY start_time NULLS LAST, source_file, source_row, span_id)
           FILTER (WHERE parent_span_id IS NULL) AS name
  FROM spans WHERE trace_id IN (SELECT trace_id FROM picked) GROUP BY trace_id
), keyed AS (
  SELECT p.trace_id, p.start_time, {{key}} AS task FROM picked p LEFT JOIN firsts f USING (trace_id)
)
SELECT trace_id, task,
       row_number() OVER (PARTITION BY task ORDER BY start_time NULLS LAST, trace_id) AS ordinal
FROM keyed ORDER BY start_time NULLS LAST, trace_id"""

# A request's first user message as text, in chat (`messages`) and Responses (`input`) bodies.
FIRST_USER = """tc_content(list_filter(
    CASE WHEN json_type(f.request, '$.input') = 'VARCHAR'
         THEN [json_object('role', 'user', 'content', f.request->'$.input')]
         ELSE coalesce(json_extract(f.request, '$.messages[*]'), json_extract(f.request, '$.input[*]')) END,
    lambda m: m->>'role' = 'user')[1]->'content')"""
_KEYS = {"message": FIRST_USER, "name": "f.name", "id": "p.trace_id",
         "tag": "map_extract_value(p.tags, $match_tag)"}


def _tasks(side: Side, match: Match) -> list[dict[str, Any]]:
    """`{trace_id, task, ordinal}` for each trace the side selects, in start order."""
    w = trace_where(side.filters)
    params = merge(w.params, {"match_tag": match.tag_key} if match.tag_key else {})
    return rows_of(side.con.execute(fill(_TASKS, where=w.sql(), key=_KEYS[match.by]), params))


Action = Literal["tools", "answer", "error"]


@dataclass(frozen=True)
class Step:
    """What one LLM call of a run decided: the tools it called, the answer it gave, or that it
    failed."""

    number: int
    span_id: str
    model: str | None
    action: Action
    calls: tuple[str, ...]  # as the model sent them: `multiply(first_int=243, second_int=36)`
    text: str | None  # the answer, or the error
    names: tuple[str | None, ...]
    asked: tuple[str, ...]  # the calls with their arguments in one order, to compare

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "span_id": self.span_id, "model": self.model,
                "action": self.action, "calls": list(self.calls), "text": self.text}


def step_of(number: int, node: SpanNode) -> Step:
    """The step an LLM call decided (replay builds one for a live response too)."""
    calls = node.tool_calls
    failed = node.span.get("status") == "error" and not calls and node.output_text is None
    action: Action = "tools" if calls else "error" if failed else "answer"
    text = node.span.get("error") if failed else node.output_text
    return Step(number, node.span["span_id"], node.span.get("model"), action,
                tuple(c.signature for c in calls), text, tuple(c.name for c in calls),
                tuple(call_signature(c.name, c.arguments, sort_keys=True) for c in calls))


def steps(con: duckdb.DuckDBPyConnection, trace_id: str) -> list[Step]:
    """A run's LLM calls in order (as `show` numbers them), each as the step it decided."""
    out: list[Step] = []

    def walk(nodes: list[SpanNode]) -> None:
        for node in nodes:
            if node.kind == "llm":
                out.append(step_of(len(out) + 1, node))
            walk(node.children)

    walk(build(con, trace_id).roots)
    return out


DivergenceKind = Literal["tool", "arguments", "answer_instead_of_tool", "tool_instead_of_answer",
                         "answer", "error", "ended"]


def parted(b: Step | None, h: Step | None) -> DivergenceKind | None:
    """How two steps at the same place differ; None when they decided the same."""
    if b is None or h is None:
        return "ended"
    if b.action != h.action:
        if "error" in (b.action, h.action):
            return "error"
        return "answer_instead_of_tool" if h.action == "answer" else "tool_instead_of_answer"
    if b.action == "tools":
        return "tool" if b.names != h.names else "arguments" if b.asked != h.asked else None
    return None if b.text == h.text else b.action  # "answer" or "error"


def first_divergence(base: list[Step], head: list[Step]) -> dict[str, Any] | None:
    """The first step where the runs decided differently (one running out of steps counts):
    `{step, kind, base, head}`, a side without that step null. None for runs that agree."""
    for i in range(max(len(base), len(head))):
        b = base[i] if i < len(base) else None
        h = head[i] if i < len(head) else None
        kind = parted(b, h)
        if kind is not None:
            return {"step": i + 1, "kind": kind, "base": b.to_dict() if b else None,
                    "head": h.to_dict() if h else None}
    return None


@dataclass(frozen=True)
class Alignment:
    match: Match
    tasks: list[dict[str, Any]]
    unmatched_base: list[str]
    unmatched_head: list[str]
    base_traces: int
    head_traces: int

    @property
    def diverged(self) -> int:
        return sum(1 for t in self.tasks if t["divergence"] is not None)


def align(base: Side, head: Side, match: Match) -> Alignment:
    """Each task both sides ran, its two runs' steps compared; the traces of either side that
    met none on the other."""
    b_tasks, h_tasks = _tasks(base, match), _tasks(head, match)
    heads = {(t["task"], t["ordinal"]): t["trace_id"] for t in h_tasks if t["task"] is not None}
    tasks, matched = [], set()
    for t in b_tasks:
        head_trace = heads.get((t["task"], t["ordinal"])) if t["task"] is not None else None
        if head_trace is None:
            continue
        matched.add(head_trace)
        b_steps, h_steps = steps(base.con, t["trace_id"]), steps(head.con, head_trace)
        divergence = first_divergence(b_steps, h_steps)
        same = divergence["step"] - 1 if divergence else len(b_steps)
        tasks.append({"task": t["task"], "base_trace": t["trace_id"], "head_trace": head_trace,
                      "base_steps": len(b_steps), "head_steps": len(h_steps),
                      "same_steps": same, "divergence": divergence})
    paired = {t["base_trace"] for t in tasks}
    return Alignment(match, tasks, [t["trace_id"] for t in b_tasks if t["trace_id"] not in paired],
                     [t["trace_id"] for t in h_tasks if t["trace_id"] not in matched],
                     len(b_tasks), len(h_tasks))


# ---------------------------------------------------------------------------- gates

# --fail-on words, and the metric of the totals each one watches.
GATE_METRICS = {"cost": "cost_usd", "tokens": "tokens", "calls": "calls", "p50": "p50_ms",
                "p95": "p95_ms", "errors": "error_rate"}
DIVERGENCE = "divergence"
_GATE = re.compile(r"(?P<metric>[a-z0-9_]+)\s*(?P<op>>=|<=|>|<)\s*"
                   r"(?P<value>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>%|pp|ms|s)?")
_UNITS = {"cost": ("", "%"), "tokens": ("", "%"), "calls": ("", "%"),
          "p50": ("", "%", "ms", "s"), "p95": ("", "%", "ms", "s"), "errors": ("", "%", "pp")}
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
GATE_HELP = ("METRIC>+N% (relative change), METRIC>+N (absolute: USD, tokens, calls, ms or "
             "500ms/2s), errors>+N (error rate, percentage points) or divergence; METRIC one of "
             + ", ".join(GATE_METRICS))


@dataclass(frozen=True)
class Gate:
    """One --fail-on expression: trips when the change of a total passes a limit, or (metric
    `divergence`) when any task's runs part."""

    expression: str
    metric: str
    op: str = ">"
    limit: Decimal = Decimal(0)
    relative: bool = False  # the limit is a percentage of base


def parse_gates(texts: list[str]) -> list[Gate]:
    """The gates of every --fail-on (each may hold several, comma-separated)."""
    return [_gate(part.strip()) for text in texts for part in text.split(",") if part.strip()]


def _gate(text: str) -> Gate:
    if text.lower() == DIVERGENCE:
        return Gate(text, DIVERGENCE)
    found = _GATE.fullmatch(text.lower())
    metric, unit = (found["metric"], found["unit"] or "") if found else ("", "")
    if not found or metric not in GATE_METRICS or unit not in _UNITS[metric]:
        raise TraceCliError(f"--fail-on {text!r}: expected {GATE_HELP}", ExitCode.USAGE)
    limit = Decimal(found["value"]) * (1000 if unit == "s" else 1)
    return Gate(text, metric, found["op"], limit, relative=unit == "%" and metric != "errors")


def evaluate(gates: list[Gate], total: dict[str, Any], alignment: Alignment) -> list[dict[str, Any]]:
    """`{expression, metric, measured, tripped}` per gate. `measured` is the change the gate
    watches (a percentage for a relative gate, the count of diverged tasks for `divergence`);
    a relative change from nothing to something is infinitely large, and trips any `>` gate
    (`measured` null). The error rate's change is in percentage points."""
    out = []
    for gate in gates:
        if gate.metric == DIVERGENCE:
            measured: float | None = alignment.diverged
            tripped = alignment.diverged > 0
        else:
            value = total[GATE_METRICS[gate.metric]]
            measured = _measured(value, gate.relative, points=gate.metric == "errors")
            tripped = measured is not None and _OPS[gate.op](Decimal(repr(measured)), gate.limit)
        out.append({"expression": gate.expression, "metric": gate.metric, "unit": _unit(gate),
                    "measured": None if measured is None or math.isinf(measured) else measured,
                    "tripped": bool(tripped)})
    return out


def _unit(gate: Gate) -> str:
    """What `measured` counts: %, pp (the error rate's points), ms, usd, tokens, calls, tasks."""
    if gate.metric == DIVERGENCE:
        return "tasks"
    if gate.relative:
        return "%"
    return {"cost": "usd", "p50": "ms", "p95": "ms", "errors": "pp"}.get(gate.metric, gate.metric)


def _measured(value: dict[str, Any], relative: bool, *, points: bool) -> float | None:
    """The change a gate compares with its limit, in the limit's unit (ms for latency,
    percentage points for the error rate)."""
    if points:
        return None if value["change"] is None else rounded(value["change"] * 100)
    measured: float | None = value["change" if not relative else "change_pct"]
    if relative and measured is None and value["base"] == 0 and value["head"] is not None:
        return 0.0 if value["head"] == 0 else math.copysign(math.inf, value["head"])
    return measured


# ---------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    base: str
    head: str
    metrics: Metrics
    alignment: Alignment
    gates: list[dict[str, Any]]

    @property
    def failed(self) -> bool:
        """A gate tripped: the command exits 1."""
        return any(g["tripped"] for g in self.gates)


def compare(base: Side, head: Side, match: Match, gates: list[Gate]) -> Report:
    """Everything `diff` says of two runs."""
    found = metrics(base, head)
    alignment = align(base, head, match)
    return Report(base.label, head.label, found, alignment, evaluate(gates, found.total, alignment))


def to_dict(report: Report) -> dict[str, Any]:
    """The documented `diff --format json` shape."""
    m, a = report.metrics, report.alignment
    return {
        "base": {"source": report.base, "traces": a.base_traces, "calls": m.base_calls},
        "head": {"source": report.head, "traces": a.head_traces, "calls": m.head_calls},
        "total": m.total, "models": m.models, "tags": m.tags,
        "match": a.match.label, "tasks": a.tasks,
        "unmatched": {"base": a.unmatched_base, "head": a.unmatched_head},
        "gates": report.gates, "failed": report.failed,
    }
