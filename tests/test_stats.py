"""`tracecli stats` on crafted logs: percentiles as a reference computes them, cache savings as
priced by hand, feedback, groupings and every output format."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLES, Invoke
from tracecli.ingest.pricing import lookup


def portkey(n: int, **fields: Any) -> dict[str, Any]:
    """A Portkey export row of one chat call (cost in cents, as Portkey logs it)."""
    row = {"id": f"log-{n}", "trace_id": f"trace-{n}", "created_at": f"2025-05-0{1 + n % 3}T10:00:{n % 60:02d}Z",
           "is_success": True, "response_time": 100, "ai_org": "openai", "ai_model": "gpt-4o-mini",
           "req_units": 100, "res_units": 10, "cost": 0.01, "cache_status": "MISS",
           "retry_success_count": 0, "metadata": {"env": "ci"}}
    return {**row, **fields}


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def stats(cli: Invoke, *args: str, input: str | None = None) -> dict[str, Any]:
    result = cli("stats", "--format", "json", *args, input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks (what quantile_cont computes)."""
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    return xs[lo] if lo + 1 >= len(xs) else xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


# durations in no order, some equal, one outlier
MINI_MS = [(37 * i * i + 11 * i) % 1900 + 40 for i in range(23)] + [9_870, 410, 410]
FOUR_MS = [1200, 830, 2950, 1410, 760, 1205, 5400]


@pytest.fixture
def latency_log(tmp_path: Path) -> Path:
    rows = [portkey(i, response_time=ms, is_success=i % 9 != 4, retry_success_count=i % 4 == 1 and 2)
            for i, ms in enumerate(MINI_MS)]
    rows += [portkey(100 + i, ai_model="gpt-4o", response_time=ms, req_units=300, res_units=50,
                     metadata={"env": "prod", "team": "search"}) for i, ms in enumerate(FOUR_MS)]
    return write(tmp_path / "latency.jsonl", rows)


def test_percentiles_equal_a_reference_computation(cli: Invoke, latency_log: Path) -> None:
    doc = stats(cli, "--from", str(latency_log))
    assert doc["by"] == "model"
    groups = {r["group"]: r for r in doc["rows"]}
    for group, durations in (("gpt-4o-mini", MINI_MS), ("gpt-4o", FOUR_MS),
                             ("TOTAL", MINI_MS + FOUR_MS)):
        row = doc["total"] if group == "TOTAL" else groups[group]
        assert row["calls"] == len(durations)
        expected = {f"p{round(q * 100)}": quantile(durations, q) for q in (0.5, 0.9, 0.95, 0.99)}
        # to the microsecond, as durations are logged
        assert row["latency_ms"] == pytest.approx({**expected, "max": max(durations)}, rel=0, abs=5e-4)


def test_errors_tokens_cost_and_retries(cli: Invoke, latency_log: Path) -> None:
    doc = stats(cli, "--from", str(latency_log))
    mini = next(r for r in doc["rows"] if r["group"] == "gpt-4o-mini")
    failed = [i for i in range(len(MINI_MS)) if i % 9 == 4]
    retried = [i for i in range(len(MINI_MS)) if i % 4 == 1]
    assert mini["errors"] == len(failed) and doc["total"]["errors"] == len(failed)
    assert mini["error_rate"] == pytest.approx(len(failed) / len(MINI_MS))
    assert mini["retries"] == {"calls_retried": len(retried), "total": 2 * len(retried)}
    assert mini["prompt_tokens"] == 100 * len(MINI_MS) and mini["completion_tokens"] == 10 * len(MINI_MS)
    assert mini["cost_usd"] == pytest.approx(0.0001 * len(MINI_MS))  # 0.01 cents a call
    assert doc["total"]["prompt_tokens"] == 100 * len(MINI_MS) + 300 * len(FOUR_MS)
    assert doc["rows"][0]["group"] == "gpt-4o-mini"  # costliest first
    assert doc["total"]["cache"]["hits"] == 0 and doc["total"]["feedback_mean"] is None


def test_cache_savings_equal_a_hand_priced_example(cli: Invoke, tmp_path: Path) -> None:
    rates = lookup("openai", "gpt-4o")
    assert rates is not None and rates.cached_input < rates.input
    log = write(tmp_path / "cache.jsonl", [
        portkey(1, ai_model="gpt-4o", cache_status="HIT", cost=0, req_units=1000, res_units=200),
        portkey(2, ai_model="gpt-4o", cache_status="semantic hit", cost=0, req_units=500, res_units=100),
        portkey(3, ai_model="gpt-4o", req_units=2000, res_units=50, response={
            "object": "chat.completion", "usage": {"prompt_tokens": 2000, "completion_tokens": 50,
                                                   "prompt_tokens_details": {"cached_tokens": 1536}}}),
        portkey(4, ai_model="gpt-4o", cache_status="SEMANTIC MISS"),
        portkey(5, ai_model="in-house-7b", cache_status="HIT", cost=0),  # no price: saves unknown
    ])
    doc = stats(cli, "--from", str(log))
    four = next(r for r in doc["rows"] if r["group"] == "gpt-4o")
    hand = (1000 * rates.input + 200 * rates.output) + (500 * rates.input + 100 * rates.output)
    assert four["cache"] == {"hits": 1, "semantic_hits": 1, "hit_rate": 0.5,
                             "saved_usd": pytest.approx(hand, rel=1e-9),
                             "prompt_saved_usd": pytest.approx(1536 * (rates.input - rates.cached_input), rel=1e-9)}
    assert four["cached_tokens"] == 1536
    unknown = next(r for r in doc["rows"] if r["group"] == "in-house-7b")
    assert unknown["cache"]["hits"] == 1 and unknown["cache"]["saved_usd"] is None
    assert doc["total"]["cache"]["hits"] == 2 and doc["total"]["cache"]["hit_rate"] == pytest.approx(3 / 5)
    assert doc["total"]["cache"]["saved_usd"] == pytest.approx(hand, rel=1e-9)


def test_feedback_mean_is_weighted_per_group(cli: Invoke, tmp_path: Path) -> None:
    log = write(tmp_path / "calls.jsonl", [
        portkey(1, trace_id="t-a"), portkey(2, trace_id="t-a"),  # two calls, one trace
        portkey(3, trace_id="t-b", ai_model="gpt-4o"), portkey(4, trace_id="t-c"),
    ])
    feedback = write(tmp_path / "feedback.jsonl", [
        {"trace_id": "t-a", "value": 8}, {"trace_id": "t-a", "value": 2, "weight": 0.5},
        {"trace_id": "t-b", "value": -4, "weight": 1},
    ])
    doc = stats(cli, "--from", str(log), "--from", str(feedback))
    groups = {r["group"]: r for r in doc["rows"]}
    assert groups["gpt-4o-mini"]["feedback_mean"] == pytest.approx((8 + 2 * 0.5) / 1.5)
    assert groups["gpt-4o-mini"]["feedback_count"] == 2  # per record, not per call
    assert groups["gpt-4o"]["feedback_mean"] == -4
    assert doc["total"]["feedback_mean"] == pytest.approx((8 + 1 - 4) / 2.5)
    by_trace = {r["group"]: r["feedback_mean"] for r in stats(cli, "--from", str(log), "--from",
                                                              str(feedback), "--by", "trace")["rows"]}
    assert by_trace == {"t-a": pytest.approx(6.0), "t-b": -4, "t-c": None}


def test_documented_shape(cli: Invoke, latency_log: Path) -> None:
    doc = stats(cli, "--from", str(latency_log))
    assert list(doc) == ["by", "rows", "total"]
    fields = ["group", "calls", "errors", "error_rate", "latency_ms", "prompt_tokens",
              "completion_tokens", "cached_tokens", "cost_usd", "unpriced_calls", "cache", "retries",
              "feedback_mean", "feedback_count"]
    assert [list(r) for r in doc["rows"]] == [fields] * 2
    assert list(doc["total"]) == fields[1:]
    row = doc["rows"][0]
    assert list(row["latency_ms"]) == ["p50", "p90", "p95", "p99", "max"]
    assert list(row["cache"]) == ["hits", "semantic_hits", "hit_rate", "saved_usd", "prompt_saved_usd"]
    assert list(row["retries"]) == ["calls_retried", "total"]


@pytest.mark.parametrize("by, groups", [
    ("provider", {"openai": 33}),
    ("tag:env", {"ci": 26, "prod": 7}),
    ("tag:team", {"(none)": 26, "search": 7}),
    ("tag", {"env=ci": 26, "env=prod": 7, "team=search": 7}),  # a call counts once per tag
    ("day", {"2025-05-01": 11, "2025-05-02": 12, "2025-05-03": 10}),
])
def test_groupings_and_a_total_that_counts_each_call_once(cli: Invoke, latency_log: Path, by: str,
                                                          groups: dict[str, int]) -> None:
    doc = stats(cli, "--from", str(latency_log), "--by", by)
    assert doc["by"] == by
    assert {r["group"]: r["calls"] for r in doc["rows"]} == groups
    assert doc["total"]["calls"] == 33


def test_filters_and_only_calls_count(cli: Invoke, tmp_path: Path) -> None:
    """Tool spans are steps, not calls: their time counts nowhere."""
    def span(i: int, kind: str, ms: float, model: str | None = None) -> dict[str, Any]:
        return {"record_key": f"k{i}", "trace_id": "t1", "span_id": f"s{i}", "source_format": "tracecli",
                "kind": kind, "model": model, "provider": "openai", "duration_ms": ms,
                "start_time": f"2025-06-0{i}T00:00:00", "status": "ok", "metadata": {"env": "ci"}}
    log = write(tmp_path / "spans.jsonl", [span(1, "llm", 100, "gpt-4o"), span(2, "tool", 99_999),
                                           span(3, "embedding", 20, "text-embedding-3-small"),
                                           span(4, "agent", 50_000)])
    doc = stats(cli, "--from", str(log), "--by", "trace")
    assert doc["total"]["calls"] == 2 and doc["total"]["latency_ms"]["max"] == 100
    assert stats(cli, "--from", str(log), "--model", "gpt-4o")["total"]["calls"] == 1
    assert stats(cli, "--from", str(log), "--since", "2025-06-02")["total"]["calls"] == 1
    assert stats(cli, "--from", str(log), "--tag", "env=prod")["rows"] == []


def test_nothing_to_count_is_a_total_of_zero(cli: Invoke) -> None:
    doc = stats(cli, "--from", "-", input="")
    assert doc["rows"] == []
    assert doc["total"]["calls"] == 0 and doc["total"]["cost_usd"] == 0
    assert doc["total"]["error_rate"] is None and doc["total"]["latency_ms"]["p95"] is None


def test_pipe_and_flat_formats(cli: Invoke, latency_log: Path) -> None:
    text = latency_log.read_text()
    doc = stats(cli, "--from", "-", input=text)
    result = cli("stats", "--from", "-", "--format", "csv", input=text)
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["group"] for r in table] == ["gpt-4o-mini", "gpt-4o", "TOTAL"]
    assert float(table[-1]["latency_ms.p95"]) == pytest.approx(doc["total"]["latency_ms"]["p95"])
    assert table[-1]["cache.hits"] == "0" and table[-1]["retries.total"] == str(doc["total"]["retries"]["total"])
    lines = cli("stats", "--from", "-", "--format", "jsonl", input=text).stdout.splitlines()
    assert [json.loads(line) for line in lines] == doc["rows"]
    markdown = cli("stats", "--from", "-", "--format", "markdown", "--by", "tag:env", input=text).stdout
    head, rule, *body = markdown.splitlines()
    assert head.startswith("| tag:env | calls | errors | err % | p50 |") and "hit %" in head
    assert rule.startswith("| --- | ---: |")
    assert [line.split(" | ")[0] for line in body] == ["| ci", "| prod", "| TOTAL"]
    assert "{" not in markdown  # nested fields are columns, never dicts
    assert cli("stats", "--from", "-", input=text).stdout.splitlines()[-1].startswith("TOTAL")


def test_the_samples(cli: Invoke) -> None:
    doc = stats(cli, "--from", str(SAMPLES))
    total = doc["total"]
    assert total["calls"] == 15 and total["errors"] == 2
    assert total["cache"]["hits"] == 1 and total["retries"] == {"calls_retried": 2, "total": 5}
    assert total["feedback_count"] == 3 and total["feedback_mean"] == pytest.approx((9 + 2.5 - 4) / 2.5)
    assert total["cost_usd"] == 0.00299362  # no float noise (money to 10 significant digits)


def test_bad_grouping_is_a_usage_error(cli: Invoke) -> None:
    result = cli("stats", "--from", "-", "--by", "colour", input="")
    assert result.exit_code == 2 and "--by 'colour'" in result.stderr
