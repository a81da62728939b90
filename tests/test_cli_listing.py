"""`traces` and `cost`: filters, totals, and every output format."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_JSONL, Invoke, sample_rows


def traces_json(cli: Invoke, *args: str) -> list[dict]:
    result = cli("traces", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_traces_newest_first_with_documented_fields(cli: Invoke, sample_store: None) -> None:
    rows = traces_json(cli)
    assert len(rows) == 8
    starts = [r["start_time"] for r in rows]
    assert starts == sorted(starts, reverse=True)
    assert set(rows[0]) == {"trace_id", "start_time", "duration_ms", "spans", "llm_calls",
                            "tool_calls", "models", "prompt_tokens", "completion_tokens",
                            "total_tokens", "cost_usd", "unpriced_calls", "errors", "status", "tags",
                            "feedback_score", "feedback_count"}
    ref = next(r for r in rows if r["trace_id"] == "trc_7f3a2c91e4b0")
    assert ref["llm_calls"] == 4 and ref["tool_calls"] == 3 and ref["total_tokens"] == 838
    assert ref["start_time"] == "2025-03-04T10:15:02.123Z"
    assert ref["tags"]["env"] == "prod"


@pytest.mark.parametrize("args, expected", [
    (("--model", "gpt-4o"), {"trc_rag_5d21c0", "trc_4o_63cc21", "trc_4o_74dd32"}),
    (("--tag", "env=dev"), {"trc_cl_41aa09", "trc_cl_52bb10"}),
    (("--tag", "env=prod", "--tag", "feature=triage"), {"trc_4o_63cc21", "trc_4o_74dd32"}),
    (("--status", "error"), {"trc_fail_9e04b7", "trc_4o_63cc21"}),
    (("--min-cost", "0.001"), {"trc_cl_41aa09"}),
    (("--search", "HAIKU"), {"trc_cl_52bb10"}),
    (("--since", "2025-03-04T14:00"), {"trc_4o_63cc21", "trc_4o_74dd32"}),
    (("--until", "2025-03-04T10:30:00Z"), {"trc_7f3a2c91e4b0"}),
])
def test_trace_filters(cli: Invoke, sample_store: None, args: tuple[str, ...], expected: set[str]) -> None:
    assert {r["trace_id"] for r in traces_json(cli, *args)} == expected


def test_limit_says_on_stderr_when_cut(cli: Invoke, sample_store: None) -> None:
    result = cli("traces", "--limit", "3", "--format", "jsonl")
    assert len(result.stdout.splitlines()) == 3
    assert "showing 3 of 8 traces" in result.stderr
    assert len(traces_json(cli, "--limit", "0")) == 8


def test_bad_time_is_a_usage_error(cli: Invoke, sample_store: None) -> None:
    result = cli("traces", "--since", "yesterday-ish")
    assert result.exit_code == 2 and "--since" in result.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown"])
def test_every_format_renders_every_trace(cli: Invoke, sample_store: None, fmt: str) -> None:
    out = cli("traces", "--format", fmt).stdout
    ids = {r["trace_id"] for r in traces_json(cli)}
    if fmt == "json":
        assert {r["trace_id"] for r in json.loads(out)} == ids
    elif fmt == "jsonl":
        assert {json.loads(line)["trace_id"] for line in out.splitlines()} == ids
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {r["trace_id"] for r in rows} == ids
        assert json.loads(rows[0]["models"])  # nested values are JSON text
    else:
        assert all(i in out for i in ids)
        if fmt == "markdown":
            assert out.splitlines()[1].startswith("| ---")


def _expected_by_env() -> dict[str, float]:
    sums: dict[str, float] = defaultdict(float)
    for row in sample_rows():
        sums[row["metadata"]["env"]] += row["cost"] / 100  # Portkey logs cents
    return sums


def test_cost_by_tag_env_totals_equal_sum_of_rows(cli: Invoke, sample_store: None) -> None:
    doc = json.loads(cli("cost", "--by", "tag:env", "--format", "json").stdout)
    assert doc["by"] == "tag:env"
    got = {r["group"]: r["cost_usd"] for r in doc["rows"]}
    expected = _expected_by_env()
    assert got.keys() == expected.keys()
    for env, value in expected.items():
        assert got[env] == pytest.approx(value, rel=1e-12)
    assert doc["total"]["cost_usd"] == pytest.approx(sum(expected.values()), rel=1e-12)
    assert doc["total"]["calls"] == 15 and doc["total"]["logged"] == 15


def test_cost_from_stdin_without_a_store(cli: Invoke) -> None:
    result = cli("cost", "--by", "model", "--from", "-", "--format", "json",
                 input=SAMPLE_JSONL.read_text())
    doc = json.loads(result.stdout)
    assert {r["group"] for r in doc["rows"]} == {"gpt-4o-mini", "gpt-4o", "text-embedding-3-small",
                                                 "claude-3-5-sonnet-20241022"}


@pytest.mark.parametrize("by, groups", [
    ("provider", {"openai", "anthropic"}),
    ("day", {"2025-03-04"}),
    ("tag", {"env=prod", "env=dev", "env=staging", "feature=math-agent", "feature=support-rag",
             "feature=summaries", "feature=triage", "_user=u_1001", "_user=u_1002", "_user=u_2048",
             "_user=u_1187", "_user=u_77", "_user=u_78", "_user=u_2300"}),
])
def test_cost_groupings(cli: Invoke, sample_store: None, by: str, groups: set[str]) -> None:
    doc = json.loads(cli("cost", "--by", by, "--format", "json").stdout)
    assert {r["group"] for r in doc["rows"]} == groups


def test_cost_table_has_total_row_and_csv_too(cli: Invoke, sample_store: None) -> None:
    table = cli("cost", "--by", "model").stdout
    assert table.splitlines()[-1].startswith("TOTAL")
    rows = list(csv.DictReader(io.StringIO(cli("cost", "--format", "csv").stdout)))
    assert rows[-1]["group"] == "TOTAL"
    assert sum(float(r["cost_usd"]) for r in rows[:-1]) == pytest.approx(float(rows[-1]["cost_usd"]))


def test_cost_with_tag_filter_and_bad_grouping(cli: Invoke, sample_store: None) -> None:
    doc = json.loads(cli("cost", "--by", "model", "--tag", "feature=triage", "--format", "json").stdout)
    assert [r["group"] for r in doc["rows"]] == ["gpt-4o"] and doc["total"]["calls"] == 2
    bad = cli("cost", "--by", "colour")
    assert bad.exit_code == 2 and "--by 'colour'" in bad.stderr


def test_help_lists_every_command(cli: Invoke) -> None:
    out = cli("--help").stdout
    for command in ("ingest", "traces", "show", "cost", "replay", "spans", "formats"):
        assert command in out


def test_cost_repriced_from_the_table(cli: Invoke, sample_store: None) -> None:
    doc = json.loads(cli("cost", "--prices", "table", "--model", "gpt-4o-mini", "--format", "json").stdout)
    assert doc["prices"] == "table"
    rows = [r for r in sample_rows() if r["ai_model"] == "gpt-4o-mini"]
    expected = sum(r["req_units"] * 0.15e-6 + r["res_units"] * 0.6e-6 for r in rows)
    assert doc["total"]["computed"] == len(rows) and doc["total"]["logged"] == 0
    assert doc["total"]["cost_usd"] == pytest.approx(expected, rel=1e-9)
    logged = json.loads(cli("cost", "--model", "gpt-4o-mini", "--format", "json").stdout)
    assert logged["prices"] == "logged" and logged["total"]["logged"] == len(rows)
    assert cli("cost", "--prices", "guess").exit_code == 2


def test_issue_pipe_example_reads_every_sample_jsonl(cli: Invoke) -> None:
    """`cat sample_logs/*.jsonl | tracecli cost --by model --from -`, as the issue writes it."""
    from tests.conftest import SAMPLES

    stream = "".join(p.read_text() for p in sorted(SAMPLES.glob("*.jsonl")))
    doc = json.loads(cli("cost", "--by", "model", "--from", "-", "--format", "json", input=stream).stdout)
    assert "(unknown)" not in {r["group"] for r in doc["rows"]}
    assert doc["total"]["calls"] == len(sample_rows())
    assert doc["total"]["cost_usd"] == pytest.approx(sum(r["cost"] for r in sample_rows()) / 100)


def test_trace_tags_take_each_keys_earliest_value(cli: Invoke, tmp_path: Path) -> None:
    """A trace whose spans are tagged alike lists that map; one whose spans differ lists, per
    key, the value of the earliest span that has it."""
    rows = [r for r in sample_rows() if r["trace_id"] == "trc_7f3a2c91e4b0"]
    alike = [{**r, "id": f"alike-{i}", "trace_id": "alike", "metadata": {"env": "prod", "team": "a"}}
             for i, r in enumerate(rows)]
    mixed = [{**r, "id": f"mixed-{i}", "trace_id": "mixed", "metadata": m} for i, (r, m) in enumerate(zip(
        rows, [{"team": "b"}, {"env": "staging", "team": "c"}, {}, {"env": "prod", "user": "u1"}],
        strict=True))]
    path = tmp_path / "tags.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in reversed(alike + mixed)))  # order: by time
    assert cli("ingest", str(path)).exit_code == 0
    listed = {t["trace_id"]: t["tags"] for t in json.loads(cli("traces", "--format", "json").stdout)}
    assert listed == {"alike": {"env": "prod", "team": "a"},
                      "mixed": {"env": "staging", "team": "b", "user": "u1"}}
