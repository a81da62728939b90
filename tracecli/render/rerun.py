"""`replay --endpoint` written out: the recorded and the replayed run side by side as a tree
(table), as tables (markdown), as one JSON document (json) or as step rows (jsonl, csv)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from rich.tree import Tree

from tracecli.environment import Environment
from tracecli.render import console
from tracecli.render.diff import DIVERGENCES, step_text
from tracecli.render.output import Column, OutputFormat, emit, format_cost, format_ms, write_json
from tracecli.render.text import markdown, one_line

_STATUS = {"same": "same", "diverged": "DIVERGED", "counterfactual": "counterfactual",
           "not_sent": "not sent"}
_STYLE = {"same": "green", "diverged": "bold red", "counterfactual": "yellow", "not_sent": "dim"}

# The step rows of jsonl and csv, and markdown's step table.
STEP_ROWS = [
    Column("step", "step", "int"), Column("status", "status"),
    Column("recorded", "recorded", width=60), Column("replayed", "replayed", width=60),
    Column("recorded_tokens", "rec tok", "int"), Column("replayed_tokens", "new tok", "int"),
    Column("recorded_cost_usd", "rec cost", "cost"), Column("replayed_cost_usd", "new cost", "cost"),
    Column("recorded_ms", "rec", "ms"), Column("replayed_ms", "new", "ms"),
    Column("retries", "retries", "int"),
]
_TOTALS = [Column("metric", "total"), Column("recorded", "recorded"),
           Column("replayed", "replayed"), Column("change", "change")]
_TOTAL_NAMES = {"calls": "calls", "tokens": "tokens", "cost_usd": "cost", "duration_ms": "latency",
                "retries": "retries"}


def write(doc: dict[str, Any], fmt: OutputFormat, env: Environment) -> None:
    if fmt is OutputFormat.json:
        write_json(doc, env)
    elif fmt in (OutputFormat.jsonl, OutputFormat.csv):
        emit(step_rows(doc), STEP_ROWS, fmt, env=env)
    elif fmt is OutputFormat.markdown:
        _markdown(doc, env)
    else:
        console.out(env).print(tree(doc))


def step_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """`{step, status, recorded, replayed, recorded_tokens, replayed_tokens, recorded_cost_usd,
    replayed_cost_usd, recorded_ms, replayed_ms, retries}`, the steps as one line of text each."""
    out = []
    for s in doc["steps"]:
        rec, new = s["recorded_usage"] or {}, s["replayed_usage"] or {}
        out.append({"step": s["step"], "status": s["status"], "recorded": _said(s["recorded"]),
                    "replayed": _said(s["replayed"]), "recorded_tokens": rec.get("tokens"),
                    "replayed_tokens": new.get("tokens"), "recorded_cost_usd": rec.get("cost_usd"),
                    "replayed_cost_usd": new.get("cost_usd"), "recorded_ms": rec.get("duration_ms"),
                    "replayed_ms": new.get("duration_ms"), "retries": new.get("retries")})
    return out


def _said(step: dict[str, Any] | None) -> str:
    return "" if step is None else step_text(step)


def headline(doc: dict[str, Any]) -> str:
    target = f"replay of {doc['trace_id']} with {doc['model']} at {doc['endpoint']}"
    stored = f" · stored as {doc['replay_trace_id']}" if doc["replay_trace_id"] else ""
    return target + stored


def verdict(doc: dict[str, Any]) -> str:
    d = doc["divergence"]
    if d is None:
        return "same path"
    return f"first divergence at step {d['step']}: {DIVERGENCES[d['kind']]}"


def tree(doc: dict[str, Any]) -> Tree:
    root = Tree(Text(one_line(headline(doc)), style="bold"), guide_style="dim")
    for s in doc["steps"]:
        branch = root.add(Text(f"step {s['step']} · {_STATUS[s['status']]}", style=_STYLE[s["status"]]))
        if s["recorded"] is not None:
            branch.add(_side("recorded", s["recorded"], s["recorded_usage"]))
        if s["replayed"] is not None:
            new = branch.add(_side("replayed", s["replayed"], s["replayed_usage"]))
            for r in s["tool_results"]:
                said = "(no recorded result)" if r["result"] is None else r["result"]
                new.add(Text(f"tool {one_line(r['call'])} → {one_line(said, 200)}"))
    root.add(Text(verdict(doc), style="bold red" if doc["divergence"] else "bold green"))
    totals = root.add(Text("totals", style="bold"))
    for line in _total_lines(doc):
        totals.add(Text(f"{line['metric']}: {line['recorded']} → {line['replayed']} ({line['change']})"))
    return root


def _side(label: str, step: dict[str, Any], usage: dict[str, Any] | None) -> Text:
    t = Text(f"{label}: ", style="bold")
    t.append(one_line(step_text(step), 300))
    metrics = _metrics(usage or {})
    if metrics:
        t.append(" · " + " · ".join(metrics), style="dim")
    return t


def _metrics(u: dict[str, Any]) -> list[str]:
    out = []
    if u.get("tokens") is not None:
        out.append(f"{u['tokens']:,} tok")
    if u.get("cost_usd") is not None:
        out.append(format_cost(u["cost_usd"]))
    if u.get("duration_ms") is not None:
        out.append(format_ms(u["duration_ms"]))
    if u.get("retries"):
        out.append(f"{u['retries']} {'retry' if u['retries'] == 1 else 'retries'}")
    return out


def _total_lines(doc: dict[str, Any]) -> list[dict[str, str]]:
    return [{"metric": _TOTAL_NAMES[key], "recorded": _value(key, v["recorded"]),
             "replayed": _value(key, v["replayed"]), "change": _change(key, v)}
            for key, v in doc["totals"].items()]


def _value(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "cost_usd":
        return format_cost(value)
    if key == "duration_ms":
        return format_ms(value)
    return f"{value:,}"


def _change(key: str, v: dict[str, Any]) -> str:
    delta, pct = v["change"], v["change_pct"]
    if delta is None:
        return "—"
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    text = sign + _value(key, abs(delta)) if delta else "0"
    return text + (f", {pct:+.1f}%" if pct is not None else "")


def _markdown(doc: dict[str, Any], env: Environment) -> None:
    env.stdout.write(f"## tracecli replay\n\n{markdown(headline(doc))}\n\n**{markdown(verdict(doc))}**"
                     "\n\n### Steps\n\n")
    emit(step_rows(doc), STEP_ROWS, OutputFormat.markdown, env=env)
    env.stdout.write("\n### Totals\n\n")
    emit(_total_lines(doc), _TOTALS, OutputFormat.markdown, env=env)
