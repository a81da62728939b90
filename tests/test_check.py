"""`tracecli check`: every budget passes and fails on crafted logs (exit 0 and 1), bad budgets are
usage errors (2), input without calls fails unless --allow-empty, TOML files of named checks."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke
from tests.test_stats import portkey, quantile, write
from tracecli.render.output import format_cost

MINI_MS = [100 * i for i in range(1, 11)]
BIG_MS = [5000, 9000]


@pytest.fixture
def run_log(tmp_path: Path) -> Path:
    """Ten cheap calls in five traces (one failed, two cache hits) and one costly trace of two."""
    rows = [portkey(i, trace_id=f"t-{i // 2}", response_time=ms, is_success=i != 3,
                    cache_status="HIT" if i in (4, 7) else "MISS")
            for i, ms in enumerate(MINI_MS)]
    rows += [portkey(50 + i, trace_id="big", ai_model="gpt-4o", response_time=ms, cost=1,
                     metadata={"env": "prod"}) for i, ms in enumerate(BIG_MS)]
    return write(tmp_path / "run.jsonl", rows)


def check(cli: Invoke, *args: str, input: str | None = None) -> tuple[int, dict[str, Any], str]:
    result = cli("check", "--format", "json", *args, input=input)
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}, result.stderr


P95 = quantile(MINI_MS + BIG_MS, 0.95)  # 6800 ms


@pytest.mark.parametrize("option, passing, failing, measured", [
    ("--max-cost", "0.05", "$0.02", 0.021),  # ten calls at 0.01 cents, two at 1 cent
    ("--max-cost-per-trace", "0.02", "0.019", 0.02),  # at the limit is within it
    ("--max-p95-latency", "7s", "6500ms", P95),
    ("--max-error-rate", "10%", "0.05", 1 / 12),
    ("--max-tokens", "1320", "1_000", 12 * 110),
    ("--min-cache-hit-rate", "15%", "0.2", 2 / 12),
])
def test_each_budget_passes_and_fails(cli: Invoke, run_log: Path, option: str, passing: str,
                                      failing: str, measured: float) -> None:
    code, doc, stderr = check(cli, "--from", str(run_log), option, passing)
    assert code == 0, stderr
    assert doc["passed"] is True and doc["calls"] == 12
    [row] = doc["checks"]
    assert row["budget"] == option[2:].replace("-", "_") and row["result"] == "pass"
    assert row["measured"] == pytest.approx(measured, rel=1e-12, abs=5e-4)
    code, doc, stderr = check(cli, "--from", str(run_log), option, failing)
    assert code == 1 and doc["passed"] is False and doc["checks"][0]["result"] == "fail"
    assert stderr.startswith("tracecli: error: budget broken: 1 of 1 failed (options ")
    assert stderr.count("\n") == 1


def test_measured_values_are_the_stats(cli: Invoke, run_log: Path) -> None:
    stats = json.loads(cli("stats", "--from", str(run_log), "--format", "json").stdout)["total"]
    code, doc, _ = check(cli, "--from", str(run_log), "--max-cost", "1", "--max-p95-latency", "1m",
                         "--max-error-rate", "1", "--min-cache-hit-rate", "0")
    assert code == 0
    measured = {r["budget"]: r["measured"] for r in doc["checks"]}
    assert measured == {"max_cost": stats["cost_usd"], "max_p95_latency": stats["latency_ms"]["p95"],
                        "max_error_rate": stats["error_rate"],
                        "min_cache_hit_rate": stats["cache"]["hit_rate"]}
    assert [r["unit"] for r in doc["checks"]] == ["usd", "ms", "ratio", "ratio"]


def test_the_costliest_trace_is_named(cli: Invoke, run_log: Path) -> None:
    code, doc, _ = check(cli, "--from", str(run_log), "--max-cost-per-trace", "0.001")
    assert code == 1 and doc["checks"][0]["detail"] == "trace big"


def test_where_scopes_the_budgets(cli: Invoke, run_log: Path) -> None:
    code, doc, _ = check(cli, "--from", str(run_log), "--where", "model=gpt-4o", "--max-p95-latency", "8s")
    assert code == 1 and doc["checks"][0]["measured"] == pytest.approx(quantile(BIG_MS, 0.95))
    assert doc["checks"][0]["scope"] == "model=gpt-4o"
    code, doc, _ = check(cli, "--from", str(run_log), "--where", "tag:env=ci", "--max-p95-latency", "1s",
                         "--max-error-rate", "10%")
    assert code == 0 and doc["checks"][0]["measured"] == pytest.approx(quantile(MINI_MS, 0.95))
    assert doc["checks"][1]["measured"] == pytest.approx(0.1)
    code, doc, _ = check(cli, "--from", str(run_log), "--where", "model=gpt-4o", "--where",
                         "tag:env=ci", "--max-cost", "1")  # both must hold: no call does
    assert code == 1 and doc["checks"][0]["detail"] == "no LLM calls in scope"


def test_no_calls_fails_unless_allowed(cli: Invoke, run_log: Path) -> None:
    result = cli("check", "--from", "-", "--max-cost", "1", input="")
    assert result.exit_code == 1
    assert result.stderr.endswith("tracecli: error: no LLM calls in the input: every budget fails "
                                  "(--allow-empty to pass)\n")
    assert "no LLM calls in scope" in result.stdout
    code, doc, _ = check(cli, "--from", "-", "--max-cost", "1", "--allow-empty", input="")
    assert code == 0 and doc == {"passed": True, "calls": 0, "checks": [
        {"name": "options", "budget": "max_cost", "scope": "all calls", "limit": 1.0, "measured": None,
         "unit": "usd", "result": "pass", "detail": "no LLM calls in scope"}]}
    # a scope that matches nothing (a typo) fails too
    code, doc, _ = check(cli, "--from", str(run_log), "--where", "model=gpt-5", "--max-cost", "1")
    assert code == 1 and doc["checks"][0]["measured"] is None
    assert check(cli, "--from", str(run_log), "--where", "model=gpt-5", "--max-cost", "1",
                 "--allow-empty")[0] == 0


def test_a_value_no_call_logged_fails(cli: Invoke, tmp_path: Path) -> None:
    log = write(tmp_path / "untimed.jsonl", [{"record_key": "k", "trace_id": "t", "span_id": "s",
                                              "source_format": "tracecli", "kind": "llm", "model": "m"}])
    code, doc, _ = check(cli, "--from", str(log), "--max-p95-latency", "8s", "--allow-empty")
    assert code == 1 and doc["checks"][0]["detail"] == "not measured: no call logged it"


def test_unpriced_calls_are_said(cli: Invoke, tmp_path: Path) -> None:
    log = write(tmp_path / "unpriced.jsonl", [portkey(1), portkey(2, ai_model="in-house-7b", cost=None)])
    code, doc, _ = check(cli, "--from", str(log), "--max-cost", "1")
    assert code == 0 and doc["checks"][0]["detail"] == "1 unpriced call not counted"


def test_a_pipe(cli: Invoke, run_log: Path) -> None:
    result = cli("check", "--from", "-", "--max-cost", "0.50", input=run_log.read_text())
    assert result.exit_code == 0, result.stderr
    head, *rows = result.stdout.splitlines()
    assert head.split() == ["check", "budget", "scope", "limit", "measured", "unit", "result", "detail"]
    assert rows[0].split() == ["options", "max_cost", "all", "calls", format_cost(0.5),
                               format_cost(0.021), "usd", "pass"]


def test_markdown_and_csv(cli: Invoke, run_log: Path) -> None:
    args = ("check", "--from", str(run_log), "--max-p95-latency", "8s", "--max-error-rate", "5%")
    markdown = cli(*args, "--format", "markdown")
    assert markdown.exit_code == 1
    # markdown may escape underscores (`max\\_cost`): both read the same on GitHub
    assert markdown.stdout.replace("\\_", "_").splitlines() == [
        "| check | budget | scope | limit | measured | unit | result | detail |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        "| options | max_p95_latency | all calls | 8.00 s | 6.80 s | ms | pass |  |",
        "| options | max_error_rate | all calls | 5.0% | 8.3% | ratio | fail |  |",
    ]
    rows = list(csv.DictReader(io.StringIO(cli(*args, "--format", "csv").stdout)))
    assert [(r["limit"], r["measured"], r["result"]) for r in rows] == [
        ("8000.0", "6800.0", "pass"), ("0.05", str(1 / 12), "fail")]


@pytest.mark.parametrize("args, message", [
    (("--max-p95-latency", "8"), "--max-p95-latency '8': expected a duration with a unit"),
    (("--max-p95-latency", "8 sec"), "--max-p95-latency '8 sec': expected a duration"),
    (("--max-error-rate", "150%"), "--max-error-rate '150%': expected a fraction from 0 to 1"),
    (("--max-error-rate", "5"), "--max-error-rate '5': expected a fraction"),
    (("--min-cache-hit-rate", "lots"), "--min-cache-hit-rate 'lots'"),
    (("--max-cost", "-1"), "--max-cost '-1': expected an amount in USD"),
    (("--max-cost", "nan"), "--max-cost 'nan'"),
    (("--max-tokens", "1.5"), "--max-tokens '1.5': expected a whole number"),
    (("--where", "colour=red", "--max-cost", "1"), "--where 'colour=red': expected model=MODEL or tag:KEY=VALUE"),
    (("--where", "model=gpt-4o"), "--where scopes the budgets given as options"),
    ((), "nothing to check"),
])
def test_usage_errors(cli: Invoke, run_log: Path, args: tuple[str, ...], message: str) -> None:
    result = cli("check", "--from", str(run_log), *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("tracecli: error: " + message), result.stderr


BUDGET = """\
# two named checks
[[check]]
name = "total"
max_cost = 0.50
max_error_rate = "10%"

[[check]]
name = "gpt-4o latency"
where = { model = "gpt-4o" }
max_p95_latency = "{latency}"
"""


def test_a_budget_file_of_two_named_checks(cli: Invoke, run_log: Path, tmp_path: Path) -> None:
    budget = tmp_path / "tracecli.toml"
    budget.write_text(BUDGET.replace("{latency}", "9s"))
    code, doc, stderr = check(cli, "--from", str(run_log), "--budget", str(budget))
    assert code == 0, stderr
    assert [(r["name"], r["budget"], r["scope"], r["result"]) for r in doc["checks"]] == [
        ("total", "max_cost", "all calls", "pass"), ("total", "max_error_rate", "all calls", "pass"),
        ("gpt-4o latency", "max_p95_latency", "model=gpt-4o", "pass")]
    budget.write_text(BUDGET.replace("{latency}", "8s"))
    code, doc, stderr = check(cli, "--from", str(run_log), "--budget", str(budget))
    assert code == 1 and [r["result"] for r in doc["checks"]] == ["pass", "pass", "fail"]
    assert "(gpt-4o latency max_p95_latency)" in stderr
    # options add a check of their own
    budget.write_text(BUDGET.replace("{latency}", "9s"))
    code, doc, _ = check(cli, "--from", str(run_log), "--budget", str(budget), "--max-tokens", "10")
    assert code == 1 and [r["result"] for r in doc["checks"]] == ["fail", "pass", "pass", "pass"]
    assert doc["checks"][0]["name"] == "options"


def test_where_tables_take_tags_and_model_lists(cli: Invoke, run_log: Path, tmp_path: Path) -> None:
    budget = write_toml(tmp_path, '[[check]]\nname = "ci"\nwhere = { "tag:env" = "ci", '
                                  'model = ["gpt-4o-mini", "gpt-4o"] }\nmax_tokens = 1100\n')
    code, doc, _ = check(cli, "--from", str(run_log), "--budget", str(budget))
    assert code == 0 and doc["checks"][0]["measured"] == 1100
    assert doc["checks"][0]["scope"] == "tag:env=ci model=gpt-4o-mini model=gpt-4o"


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "budget.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ('[[check]]\nname = "a"\nmax_cots = 1\n', "check 'a': unknown key 'max_cots' (known: name, where, max_cost"),
    ('[[check]]\nname = "a"\nmax_cost = 1\n[extra]\nx = 1\n', "unknown key 'extra'"),
    ('[[check]]\nname = "a"\nwhere = { provider = "openai" }\nmax_cost = 1\n',
     "check 'a': where: unknown key 'provider' (known: model, tag:KEY)"),
    ('[[check]]\nname = "a"\nmax_p95_latency = 8000\n', "check 'a': max_p95_latency 8000: expected a duration"),
    ('[[check]]\nname = "a"\n', "check 'a': no limit"),
    ('[[check]]\nmax_cost = 1\n', "check 1 needs a name"),
    ('[[check]]\nname = "a"\nmax_cost = 1\n[[check]]\nname = "a"\nmax_cost = 2\n', "two checks are named 'a'"),
    ("[[check]\n", "not valid TOML"),
    ("title = 'x'\n", "unknown key 'title'"),
    ("", "no [[check]] tables"),
])
def test_bad_budget_files_name_the_file_and_key(cli: Invoke, run_log: Path, tmp_path: Path,
                                                 text: str, message: str) -> None:
    budget = write_toml(tmp_path, text)
    result = cli("check", "--from", str(run_log), "--budget", str(budget))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"tracecli: error: {budget}: {message}"), result.stderr


def test_a_missing_budget_file(cli: Invoke, run_log: Path, tmp_path: Path) -> None:
    result = cli("check", "--from", str(run_log), "--budget", str(tmp_path / "none.toml"))
    assert result.exit_code == 2 and "none.toml: cannot read it" in result.stderr
