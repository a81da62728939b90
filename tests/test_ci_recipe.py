"""README's "Use in CI" job, run step by step as GitHub would: the sample logs stand in for the
evals' logs; the budgets hold on them, break on slow ones and on none, and the summary is written."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_JSONL, sample_rows

README = (ROOT / "README.md").read_text()


def workflow() -> str:
    section = README.split("\n## Use in CI\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```yaml\n(.*?)\n```", section, re.S)
    assert found, "the Use in CI section has no yaml block"
    return found.group(1)


@dataclass
class Step:
    name: str
    run: str
    condition: str = ""


def steps(yaml: str) -> list[Step]:
    """The job's `run` steps, read from the block as written (a name, an optional `if`, a `run`
    on one line or as a `|` block)."""
    items = re.split(r"^      - ", yaml.split("\n    steps:\n", 1)[1], flags=re.M)[1:]
    found = []
    for item in items:
        fields = dict(re.findall(r"^\s*(name|if|run): ?(.*)$", item, re.M))
        if "run" not in fields:
            continue
        run = fields["run"]
        if run == "|":
            run = textwrap.dedent(item.split("run: |\n", 1)[1])
        found.append(Step(fields["name"], run.strip(), fields.get("if", "")))
    return found


@dataclass
class Job:
    codes: dict[str, int]
    stderr: dict[str, str]
    summary: str


def run_job(tmp_path: Path, logs: str) -> Job:
    """The steps in order, as the runner does: a failed step skips the rest but `if: always()`
    ones; each in `bash -eo pipefail` (the job's `shell: bash`). The evals' step is replaced by
    the logs it would have written; tracecli is this checkout's."""
    yaml = workflow()
    assert "shell: bash" in yaml
    shim = tmp_path / "bin" / "tracecli"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tracecli "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    work = tmp_path / "work"
    work.mkdir()
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(summary)}
    job = Job({}, {}, "")
    failed = False
    for step in steps(yaml):
        if step.name == "Install tracecli":
            assert step.run == "pip install tracecli"
            continue
        if step.name == "Run the evals":
            assert "logs.jsonl" in step.run
            (work / "logs.jsonl").write_text(logs)
            continue
        if failed and step.condition != "always()":
            continue
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.run],
                              cwd=work, env=env, capture_output=True, text=True, timeout=300)
        job.codes[step.name], job.stderr[step.name] = done.returncode, done.stderr
        failed = failed or done.returncode != 0
    job.summary = summary.read_text() if summary.exists() else ""
    return job


def test_the_job_passes_on_the_sample_logs(tmp_path: Path) -> None:
    job = run_job(tmp_path, SAMPLE_JSONL.read_text())
    assert job.codes == {"Check the budgets": 0, "Summary": 0}, job.stderr
    lines = job.summary.splitlines()
    assert lines[:2] == ["| check | budget | scope | limit | measured | unit | result | detail |",
                         "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    checks = lines[2:5]
    assert all(line.startswith("| options |") and "| pass |" in line for line in checks), checks
    assert "### LLM calls by model" in lines
    stats = lines[lines.index("### LLM calls by model") + 1:]
    assert stats[0].startswith("| model | calls | errors |")
    assert [row.split(" | ")[0] for row in stats[2:]] == [
        "| claude-3-5-sonnet-20241022", "| gpt-4o", "| gpt-4o-mini", "| text-embedding-3-small", "| TOTAL"]
    assert stats[-1].startswith("| TOTAL | 15 | 2 |")


def test_a_broken_budget_fails_the_job_and_still_writes_the_summary(tmp_path: Path) -> None:
    slow = [{**row, "response_time": row["response_time"] * 10} for row in sample_rows()]
    job = run_job(tmp_path, "".join(json.dumps(r) + "\n" for r in slow))
    assert job.codes == {"Check the budgets": 1, "Summary": 0}
    assert "budget broken: 1 of 3 failed (options max_p95_latency)" in job.stderr["Check the budgets"]
    assert re.search(r"\| max\\?_p95\\?_latency \| all calls \| 8\.00 s \| 17\.29 s \| ms \| fail \|", job.summary)
    assert "| TOTAL | 15 | 2 |" in job.summary


def test_logs_without_calls_fail_the_job(tmp_path: Path) -> None:
    job = run_job(tmp_path, "")
    assert job.codes["Check the budgets"] == 1
    assert "no LLM calls in the input" in job.stderr["Check the budgets"]


def test_the_block_is_the_workflow_yaml_reads() -> None:
    yaml = pytest.importorskip("yaml")
    parsed = yaml.safe_load(workflow())
    job = parsed["jobs"]["evals"]
    assert job["defaults"]["run"]["shell"] == "bash"
    runs = [Step(s["name"], s["run"].strip(), s.get("if", "")) for s in job["steps"] if "run" in s]
    assert runs == steps(workflow())
