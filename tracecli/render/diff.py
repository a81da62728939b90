"""`tracecli diff` written out: one JSON document, or the comparison as rows (jsonl, csv), or as
tables by section (table, markdown: totals, per model, per tag, the tasks' first divergent
steps, the gates), each through render.output.emit."""

from __future__ import annotations

from typing import Any

from tracecli.environment import Environment
from tracecli.read.diff import METRICS, Report, to_dict
from tracecli.render import console
from tracecli.render.output import Column, Kind, OutputFormat, cell, emit, write_json
from tracecli.render.text import markdown, one_line

METRIC_NAMES = {"calls": "calls", "tokens": "tokens", "cost_usd": "cost", "p50_ms": "latency p50",
                "p95_ms": "latency p95", "error_rate": "error rate"}
_KINDS: dict[str, Kind] = {"calls": "int", "tokens": "int", "cost_usd": "cost", "p50_ms": "ms",
                           "p95_ms": "ms", "error_rate": "percent"}
# The metric whose change a gate's measure is written like, by its unit (render.diff's own).
_UNIT_METRICS = {"usd": "cost_usd", "ms": "p50_ms", "tokens": "tokens", "calls": "calls"}

DIVERGENCES = {
    "tool": "a different tool", "arguments": "different arguments",
    "answer_instead_of_tool": "an answer instead of a tool call",
    "tool_instead_of_answer": "a tool call instead of an answer",
    "answer": "a different answer", "error": "a failed call", "ended": "one run ended",
}

# The comparison as rows (jsonl, csv): a metric of a group, or a task's first divergent step.
ROWS = [Column("section", "section"), Column("group", "group"), Column("metric", "metric"),
        Column("step", "step"), Column("base", "base"), Column("head", "head"),
        Column("change", "change"), Column("change_pct", "change_pct")]


def rows(report: Report) -> list[dict[str, Any]]:
    """`{section, group, metric, step, base, head, change, change_pct}`: section `total`, `model`
    or `tag` for metrics (step null), `step` for a task's first divergence (group the task,
    metric the kind of divergence, base and head the two steps as text, change null)."""
    m = report.metrics
    out = [_metric_row(section, row["group"], metric, row[metric])
           for section, groups in (("total", [{"group": "TOTAL", **m.total}]), ("model", m.models),
                                   ("tag", m.tags))
           for row in groups for metric in METRICS]
    for task in report.alignment.tasks:
        d = task["divergence"]
        if d is not None:
            out.append({"section": "step", "group": task["task"], "metric": d["kind"],
                        "step": d["step"], "base": step_text(d["base"]),
                        "head": step_text(d["head"]), "change": None, "change_pct": None})
    return out


def _metric_row(section: str, group: str, metric: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"section": section, "group": group, "metric": metric, "step": None, **values}


def step_text(step: dict[str, Any] | None) -> str:
    """A step as one line: its tool calls, its answer, or its error."""
    if step is None:
        return "(no step: the run had ended)"
    if step["action"] == "tools":
        return ", ".join(step["calls"])
    return f"{step['action']}: {step['text'] or ''}"


def write(report: Report, fmt: OutputFormat, env: Environment) -> None:
    """The report on stdout in `fmt`; tripped gates and tasks that met no other on stderr."""
    if fmt is OutputFormat.json:
        write_json(to_dict(report), env)
    elif fmt in (OutputFormat.jsonl, OutputFormat.csv):
        emit(rows(report), ROWS, fmt, env=env)
    else:
        _sections(report, fmt, env)
    _notes(report, env)


# ---------------------------------------------------------------------------- tables

_SIDE = [Column("metric", "metric"), Column("base", "base"), Column("head", "head"),
         Column("change", "change"), Column("change_pct", "change %")]
_TASKS = [Column("task", "task", width=40), Column("base_trace", "base trace"),
          Column("head_trace", "head trace"), Column("steps", "steps"),
          Column("divergence", "first divergence"), Column("base", "base step", width=60),
          Column("head", "head step", width=60)]
_GATES = [Column("expression", "gate"), Column("measured", "measured"), Column("result", "result")]


def _sections(report: Report, fmt: OutputFormat, env: Environment) -> None:
    """One table per section, each under a heading (`###` in markdown)."""
    as_markdown = fmt is OutputFormat.markdown
    m, a = report.metrics, report.alignment

    def heading(text: str) -> None:
        env.stdout.write(f"\n### {text}\n\n" if as_markdown else f"\n{text}\n")

    def table(rows: list[dict[str, Any]], columns: list[Column]) -> None:
        emit(rows, columns, fmt, env=env)

    env.stdout.write(("## " if as_markdown else "") + "tracecli diff\n\n" + _sides(report, as_markdown))
    heading("Totals")
    table(_metric_lines(m.total), _SIDE)
    for title, label, groups in (("By model", "model", m.models), ("By tag", "tag", m.tags)):
        heading(title)
        table([line for row in groups for line in _metric_lines(row, row["group"])],
              [Column("group", label), *_SIDE])
    heading(f"Agent steps (tasks matched by {(markdown if as_markdown else one_line)(a.match.label)})")
    if a.tasks:
        table([_task_line(t) for t in a.tasks], _TASKS)
    else:
        env.stdout.write("No task ran on both sides.\n")
    if report.gates:
        heading("Gates")
        table([_gate_line(g) for g in report.gates], _GATES)


def _sides(report: Report, as_markdown: bool) -> str:
    """`base: LABEL · 1 trace · 4 calls`, and head's, as lines (markdown: list items)."""
    m, a = report.metrics, report.alignment
    text = markdown if as_markdown else one_line
    lines = [f"{name}: {text(label)} · {_count(traces, 'trace')} · {_count(calls, 'call')}"
             for name, label, traces, calls in (("base", report.base, a.base_traces, m.base_calls),
                                                ("head", report.head, a.head_traces, m.head_calls))]
    return "".join(f"- {line}\n" if as_markdown else f"{line}\n" for line in lines)


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _metric_lines(values: dict[str, Any], group: str | None = None) -> list[dict[str, Any]]:
    """A group's metrics as lines of text; the group named on its first line only."""
    return [{"group": group if i == 0 else "", "metric": METRIC_NAMES[metric],
             "base": _value(metric, values[metric]["base"]),
             "head": _value(metric, values[metric]["head"]),
             "change": _change(metric, values[metric]["change"]),
             "change_pct": _pct(values[metric]["change_pct"])}
            for i, metric in enumerate(METRICS)]


def _value(metric: str, value: Any) -> str:
    return "—" if value is None else cell(value, _KINDS[metric])


def _change(metric: str, value: Any) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    sign = "+" if value > 0 else "-"
    if metric == "error_rate":
        return f"{sign}{abs(value) * 100:.1f} pp"
    return sign + _value(metric, abs(value))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


def _task_line(task: dict[str, Any]) -> dict[str, Any]:
    d = task["divergence"]
    line = {"task": task["task"], "base_trace": task["base_trace"],
            "head_trace": task["head_trace"], "steps": f"{task['base_steps']} / {task['head_steps']}"}
    if d is None:
        return {**line, "divergence": "none", "base": "", "head": ""}
    return {**line, "divergence": f"step {d['step']}: {DIVERGENCES[d['kind']]}",
            "base": step_text(d["base"]), "head": step_text(d["head"])}


def _gate_line(gate: dict[str, Any]) -> dict[str, Any]:
    return {"expression": gate["expression"], "measured": measured_text(gate),
            "result": "TRIPPED" if gate["tripped"] else "ok"}


def measured_text(gate: dict[str, Any]) -> str:
    """What a gate measured, in its unit: `+12.5%`, `+54 ms`, `+$0.0000205`, `1 task`."""
    value, unit = gate["measured"], gate["unit"]
    if unit == "tasks":
        return _count(int(value), "task")
    if value is None:
        return "+∞%" if unit == "%" else "—"
    if unit in ("%", "pp"):
        return f"{value:+.1f}{'%' if unit == '%' else ' pp'}"
    return _change(_UNIT_METRICS[unit], value)


# ---------------------------------------------------------------------------- stderr


def _notes(report: Report, env: Environment) -> None:
    a = report.alignment
    say = console.err(env)
    if not a.tasks:
        say.print(f"no task ran on both sides (matched by {a.match.label}): no steps compared",
                  markup=False, highlight=False)
    elif a.unmatched_base or a.unmatched_head:
        say.print(f"{_count(len(a.unmatched_base), 'base trace')} and "
                  f"{_count(len(a.unmatched_head), 'head trace')} met no task on the other side "
                  f"(matched by {a.match.label})", markup=False, highlight=False)
    for gate in report.gates:
        if gate["tripped"]:
            say.print(f"tracecli: diff: gate {one_line(gate['expression'])} tripped "
                      f"(measured {measured_text(gate)})", markup=False, highlight=False)
