"""`tracecli diff`: the reference agent run against a copy whose agent calls multiply(243, 63)
instead of multiply(243, 36), through the real CLI, on real files."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REFERENCE_TRACE, Invoke, sample_rows

GOLDEN = Path(__file__).parent / "golden" / "diff-reference.markdown.txt"

# Head's four calls: latency (ms), prompt and completion tokens, logged cost (Portkey: cents).
# The first two are base's own; then head's agent goes its other way, at other costs.
HEAD_CALLS = [(690, 142, 18, 0.00321), (900, 173, 19, 0.003735), (1000, 206, 21, 0.0052),
              (1200, 238, 29, 0.0068)]
# What head's agent did differently, as the text of its logs: the other second argument, and
# every result and the answer that follow from it.
REWRITES = [('\\"second_int\\": 36}', '\\"second_int\\": 63}'), ('"8748"', '"15309"'),
            ('\\"base\\": 8748', '\\"base\\": 15309'), ('"76527504"', '"234365481"'),
            ("76,527,504", "234,365,481"), (REFERENCE_TRACE, "trc_head_pr42"), ('"ref-', '"head-')]
BASE_MULTIPLY = "multiply(first_int=243, second_int=36)"
HEAD_MULTIPLY = "multiply(first_int=243, second_int=63)"


def base_rows() -> list[dict[str, Any]]:
    """The reference run: exponentiate(3, 5) -> multiply(243, 36) -> exponentiate(8748, 2) -> answer."""
    rows = [r for r in sample_rows() if r["trace_id"] == REFERENCE_TRACE]
    assert len(rows) == 4
    return rows


def head_rows() -> list[dict[str, Any]]:
    text = json.dumps(base_rows())
    for old, new in REWRITES:
        assert old in text, old
        text = text.replace(old, new)
    rows: list[dict[str, Any]] = json.loads(text)
    for row, (ms, prompt, completion, cents) in zip(rows, HEAD_CALLS, strict=True):
        row.update(response_time=ms, req_units=prompt, res_units=completion,
                   total_units=prompt + completion, cost=cents)
        row["response"]["usage"].update(prompt_tokens=prompt, completion_tokens=completion,
                                        total_tokens=prompt + completion)
    return rows


def write(path: Path, rows: list[dict[str, Any]], **tags: str) -> Path:
    for row in rows:
        row["metadata"].update(tags)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "base.jsonl", base_rows()), write(tmp_path / "head.jsonl", head_rows())


def _quantile(values: list[int], q: str) -> Decimal:
    """The reference percentile: linear between the closest ranks, in decimal arithmetic."""
    xs = sorted(Decimal(v) for v in values)
    pos = (len(xs) - 1) * Decimal(q)
    lo = int(pos)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (pos - lo)


def _expected() -> dict[str, float]:
    """The total changes the crafted inputs imply, worked out from the logs' own numbers."""
    base, head = base_rows(), head_rows()

    def cost(rows: list[dict[str, Any]]) -> Decimal:
        return sum((Decimal(str(r["cost"])) for r in rows), Decimal(0)) / 100  # cents

    def latency(rows: list[dict[str, Any]], q: str) -> Decimal:
        return _quantile([r["response_time"] for r in rows], q)

    def tokens(rows: list[dict[str, Any]]) -> int:
        return sum(r["req_units"] + r["res_units"] for r in rows)

    return {"cost_usd": float(cost(head) - cost(base)),
            "cost_pct": float((cost(head) - cost(base)) / cost(base) * 100),
            "p50_ms": float(latency(head, "0.5") - latency(base, "0.5")),
            "p95_ms": float(latency(head, "0.95") - latency(base, "0.95")),
            "tokens": tokens(head) - tokens(base)}


def _json(cli: Invoke, *args: str, code: int = 0, input: str | None = None) -> dict[str, Any]:
    result = cli("diff", *args, "--format", "json", input=input)
    assert result.exit_code == code, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _assert_reference_diff(doc: dict[str, Any]) -> None:
    """Head parts from base at step 2, with both argument sets, and its totals moved exactly
    as much as its logs say."""
    [task] = doc["tasks"]
    assert task["task"].startswith("Take 3 to the fifth power")
    assert (task["base_steps"], task["head_steps"], task["same_steps"]) == (4, 4, 1)
    d = task["divergence"]
    assert (d["step"], d["kind"]) == (2, "arguments")
    assert d["base"]["calls"] == [BASE_MULTIPLY] and d["head"]["calls"] == [HEAD_MULTIPLY]
    assert d["base"]["action"] == d["head"]["action"] == "tools"
    want = _expected()
    total = doc["total"]
    assert total["calls"] == {"base": 4, "head": 4, "change": 0, "change_pct": 0.0}
    assert total["tokens"]["change"] == want["tokens"] == 8
    assert total["cost_usd"]["change"] == want["cost_usd"] == 0.00002595
    assert total["cost_usd"]["change_pct"] == pytest.approx(want["cost_pct"], abs=1e-8)
    assert total["p50_ms"]["change"] == want["p50_ms"] == 54.5
    assert total["p95_ms"]["change"] == want["p95_ms"] == 89.55
    assert total["error_rate"]["change"] == 0
    [model] = doc["models"]
    assert model["group"] == "gpt-4o-mini"
    assert {k: v for k, v in model.items() if k != "group"} == total  # one model: all of it


def test_head_that_multiplies_by_63_diverges_at_step_2(cli: Invoke, runs: tuple[Path, Path]) -> None:
    base, head = runs
    doc = _json(cli, str(base), str(head))
    _assert_reference_diff(doc)
    assert doc["base"] == {"source": str(base), "traces": 1, "calls": 4}
    assert doc["tasks"][0]["base_trace"] == REFERENCE_TRACE
    assert doc["tasks"][0]["head_trace"] == "trc_head_pr42"
    assert doc["unmatched"] == {"base": [], "head": []}
    assert doc["gates"] == [] and doc["failed"] is False
    tags = {row["group"]: row for row in doc["tags"]}
    assert tags["env=prod"]["cost_usd"]["change"] == 0.00002595

    table = cli("diff", str(base), str(head))
    assert table.exit_code == 0, table.stderr
    assert "step 2: different arguments" in table.stdout
    assert BASE_MULTIPLY in table.stdout and HEAD_MULTIPLY in table.stdout


def test_identical_runs_do_not_diverge(cli: Invoke, runs: tuple[Path, Path]) -> None:
    base, _ = runs
    doc = _json(cli, str(base), str(base), "--fail-on", "divergence")
    [task] = doc["tasks"]
    assert task["divergence"] is None and task["same_steps"] == 4
    assert all(v["change"] == 0 for v in doc["total"].values())
    assert doc["gates"] == [{"expression": "divergence", "metric": "divergence", "unit": "tasks",
                             "measured": 0, "tripped": False}]


def test_gates(cli: Invoke, runs: tuple[Path, Path]) -> None:
    base, head = runs  # head costs 15.9% more, takes 8 more tokens (+0.95%), and diverges
    tripped = cli("diff", str(base), str(head), "--fail-on", "cost>+10%")
    assert tripped.exit_code == 1
    assert "gate cost>+10% tripped (measured +15.9%)" in tripped.stderr
    assert cli("diff", str(base), str(head), "--fail-on", "cost>+20%").exit_code == 0
    assert cli("diff", str(base), str(head), "--fail-on", "divergence").exit_code == 1
    doc = _json(cli, str(base), str(head), "--fail-on", "tokens>+5%,p95>+50ms",
                "--fail-on", "errors>0", code=1)
    assert [(g["expression"], g["measured"], g["tripped"]) for g in doc["gates"]] == [
        ("tokens>+5%", pytest.approx(100 * 8 / 838), False), ("p95>+50ms", 89.55, True),
        ("errors>0", 0.0, False)]
    assert doc["failed"] is True
    for bad in ("cost>>10%", "latency>+5%", "tokens>+5ms"):
        result = cli("diff", str(base), str(head), "--fail-on", f"calls>+1,{bad}")
        assert result.exit_code == 2
        assert f"--fail-on {bad!r}" in result.stderr


def test_answer_instead_of_a_tool_call(cli: Invoke, tmp_path: Path, runs: tuple[Path, Path]) -> None:
    base, _ = runs
    rows = head_rows()[:2]  # head's agent answers at step 2 instead of calling multiply
    rows[1]["response"]["choices"][0]["message"].update(content="About 8,700.", tool_calls=None)
    head = write(tmp_path / "early.jsonl", rows)
    d = _json(cli, str(base), str(head))["tasks"][0]["divergence"]
    assert (d["step"], d["kind"]) == (2, "answer_instead_of_tool")
    assert d["base"]["calls"] == [BASE_MULTIPLY]
    assert (d["head"]["action"], d["head"]["text"]) == ("answer", "About 8,700.")


def test_one_store_selected_by_tags(cli: Invoke, tmp_path: Path) -> None:
    base = write(tmp_path / "main.jsonl", base_rows(), run="main")
    head = write(tmp_path / "pr.jsonl", head_rows(), run="pr-42")
    assert cli("ingest", str(base), str(head)).exit_code == 0
    doc = _json(cli, "--base-tag", "run=main", "--head-tag", "run=pr-42")
    _assert_reference_diff(doc)
    assert (doc["base"]["source"], doc["head"]["source"]) == ("run=main", "run=pr-42")
    tags = {row["group"]: row for row in doc["tags"]}
    assert tags["run=main"]["calls"] == {"base": 4, "head": 0, "change": -4, "change_pct": -100.0}
    assert tags["run=pr-42"]["calls"]["change_pct"] is None  # nothing before: no ratio
    same = cli("diff", "--base-tag", "run=main", "--head-tag", "run=main")
    assert same.exit_code == 2 and "select the same run" in same.stderr
    bad = cli("diff", "--base-tag", "run", "--head-tag", "run=pr-42")
    assert bad.exit_code == 2 and "--base-tag 'run'" in bad.stderr


def test_base_from_stdin(cli: Invoke, runs: tuple[Path, Path]) -> None:
    base, head = runs
    doc = _json(cli, "-", str(head), input=base.read_text())
    assert doc["base"]["source"] == "<stdin>"
    _assert_reference_diff(doc)


def test_usage_errors(cli: Invoke, runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, head = runs
    for args, says in ((["diff", str(base)], "both BASE and HEAD"), (["diff"], "nothing to compare"),
                       (["diff", "-", "-"], "both be -"),
                       (["diff", str(base), str(head), "--match", "tag:"], "--match 'tag:'")):
        result = cli(*args)
        assert result.exit_code == 2 and says in result.stderr, (args, result.stderr)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = cli("diff", str(base), str(empty))
    assert result.exit_code == 1 and "holds no LLM calls" in result.stderr


def test_markdown_matches_golden(cli: Invoke, runs: tuple[Path, Path],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(runs[0].parent)  # the sides are named as given: base.jsonl, head.jsonl
    result = cli("diff", "base.jsonl", "head.jsonl", "--fail-on", "cost>+10%,divergence",
                 "--format", "markdown")
    assert result.exit_code == 1, result.stderr
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(result.stdout)
    assert result.stdout == GOLDEN.read_text()


def test_match_by_tag_or_id(cli: Invoke, runs: tuple[Path, Path]) -> None:
    base, head = runs
    doc = _json(cli, str(base), str(head), "--match", "tag:feature")
    assert doc["match"] == "tag:feature"
    assert [(t["task"], t["divergence"]["step"]) for t in doc["tasks"]] == [("math-agent", 2)]
    # the two runs' trace ids differ: by id no task ran on both sides, which is no divergence
    result = cli("diff", str(base), str(head), "--match", "id", "--fail-on", "divergence",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["tasks"] == []
    assert doc["unmatched"] == {"base": [REFERENCE_TRACE], "head": ["trc_head_pr42"]}
    assert "no task ran on both sides (matched by id)" in result.stderr
