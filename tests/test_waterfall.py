"""`show --waterfall`: every span on one time axis. Offsets are the spans' own times; parallel
spans overlap on the chart; the critical path is the chain whose ends set the trace's end; the
chart fits its width, and the machine formats carry the offsets."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REFERENCE_TRACE, ROOT, SAMPLES, Invoke, StoreCache, Stored
from tracecli.cli.main import app
from tracecli.environment import Environment

GOLDEN = ROOT / "tests" / "golden"
OTLP = str(ROOT / "tests" / "fixtures" / "formats" / "otlp" / "genai_traces.jsonl")
OTLP_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARALLEL = "trc_parallel"
SPAN_KEYS = {"span_id", "parent_span_id", "depth", "name", "label", "kind", "model", "status",
             "start_offset_ms", "duration_ms", "end_offset_ms", "critical", "tokens", "cost_usd",
             "retries"}
BAR = re.compile(r"[█░]+")

CALLS = [{"id": "call_a", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}},
         {"id": "call_b", "type": "function", "function": {"name": "fetch", "arguments": '{"u": "y"}'}}]


def _span(span_id: str, parent: str | None, kind: str, name: str, at_ms: int, duration_ms: float,
          **fields: Any) -> dict[str, Any]:
    """A span as tracecli's own JSONL writes it, `at_ms` after 10:00:00."""
    seconds, ms = divmod(at_ms, 1000)
    return {"record_key": f"test:{span_id}", "trace_id": PARALLEL, "span_id": span_id,
            "parent_span_id": parent, "name": name, "kind": kind,
            "start_time": f"2025-03-04T10:00:{seconds:02d}.{ms:03d}Z", "duration_ms": duration_ms,
            "status": "ok", "source_format": "tracecli", **fields}


def parallel_rows() -> list[dict[str, Any]]:
    """An agent whose first call asks for two tools that run side by side (search 400 ms, fetch
    1 s, both from 320 ms), then a call rejected with 429, then one that needed a retry."""
    return [
        _span("root", None, "agent", "planner", 0, 2000),
        _span("llm1", "root", "llm", "chat", 10, 300, model="gpt-4o", prompt_tokens=100,
              completion_tokens=20, total_tokens=120, cost_usd=0.001,
              request={"model": "gpt-4o", "messages": [{"role": "user", "content": "go"}]},
              response={"choices": [{"message": {"role": "assistant", "tool_calls": CALLS}}]}),
        _span("toolA", "root", "tool", "search", 320, 400, tool_call_id="call_a",
              tool_name="search", tool_result="r1"),
        _span("toolB", "root", "tool", "fetch", 320, 1000, tool_call_id="call_b",
              tool_name="fetch", tool_result="r2"),
        _span("llm2", "root", "llm", "chat", 1330, 200, model="gpt-4o", status="error",
              http_status=429, error="rate limited"),
        _span("llm3", "root", "llm", "chat", 1540, 450, model="gpt-4o", retries=1,
              prompt_tokens=150, completion_tokens=30, cost_usd=0.002,
              request={"model": "gpt-4o", "messages": [{"role": "user", "content": "go"}]},
              response={"choices": [{"message": {"role": "assistant", "content": "done"}}]}),
    ]


@pytest.fixture
def parallel_store(stored: Stored, store_cache: StoreCache) -> None:
    stored(str(store_cache.file("parallel.jsonl", parallel_rows())))


def _json(cli: Invoke, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _chart(cli: Invoke, trace: str, *args: str) -> str:
    result = cli("show", trace, "--waterfall", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _line(chart: str, label: str) -> str:
    lines = [line for line in chart.splitlines() if line.lstrip().startswith(label)]
    assert len(lines) == 1, (label, chart)
    return lines[0]


def _bar(line: str) -> tuple[int, int, str]:
    """The columns [first, last) of a chart line's bar, and its glyph."""
    match = BAR.search(line)
    assert match, line
    return match.start(), match.end(), match.group()[0]


def _ms_since(start: str, origin: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(start) - parse(origin)).total_seconds() * 1000


def test_offsets_are_the_spans_times(cli: Invoke, sample_store: None) -> None:
    doc = _json(cli, "show", REFERENCE_TRACE, "--waterfall", "--format", "json")
    spans = {s["span_id"]: s for s in _json(cli, "spans", "--trace", REFERENCE_TRACE, "--format", "json")}
    trace = _json(cli, "traces", "--format", "json", "--limit", "0")
    (summary,) = [t for t in trace if t["trace_id"] == REFERENCE_TRACE]
    assert doc["trace_id"] == REFERENCE_TRACE and doc["start_time"] == summary["start_time"]
    assert doc["duration_ms"] == summary["duration_ms"] == 3762
    assert [s["span_id"] for s in doc["spans"]] == list(spans)  # every span, in time order
    for row in doc["spans"]:
        span = spans[row["span_id"]]
        assert row["start_offset_ms"] == _ms_since(span["start_time"], summary["start_time"])
        assert row["duration_ms"] == span["duration_ms"]
        assert row["end_offset_ms"] == row["start_offset_ms"] + span["duration_ms"]
        assert row["tokens"] == span["total_tokens"] and row["cost_usd"] == span["cost_usd"]
    assert [s["start_offset_ms"] for s in doc["spans"]] == [0, 750, 1637, 2661]
    # four calls one after the other: each one waited for the last, so all are on the path
    assert all(s["critical"] for s in doc["spans"])
    assert [s["label"] for s in doc["spans"]] == [f"#{n} gpt-4o-mini" for n in (1, 2, 3, 4)]


def test_json_shape(cli: Invoke, parallel_store: None) -> None:
    doc = _json(cli, "show", PARALLEL, "--waterfall", "--format", "json")
    assert set(doc) == {"trace_id", "start_time", "duration_ms", "spans"}
    assert all(set(s) == SPAN_KEYS for s in doc["spans"])
    by_id = {s["span_id"]: s for s in doc["spans"]}
    assert [s["span_id"] for s in doc["spans"]] == ["root", "llm1", "toolA", "toolB", "llm2", "llm3"]
    assert [by_id[k]["depth"] for k in ("root", "llm1", "toolA", "llm2")] == [0, 1, 2, 1]
    assert by_id["toolB"] == {**by_id["toolB"], "label": "tool fetch", "kind": "tool",
                              "parent_span_id": "root", "start_offset_ms": 320,
                              "duration_ms": 1000, "end_offset_ms": 1320, "critical": True}
    assert by_id["llm1"]["tokens"] == 120 and by_id["llm1"]["cost_usd"] == 0.001
    assert by_id["llm3"]["tokens"] == 180 and by_id["llm3"]["retries"] == 1  # prompt + completion
    lines = cli("show", PARALLEL, "--waterfall", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == doc["spans"]
    csv = cli("show", PARALLEL, "--waterfall", "--format", "csv").stdout.splitlines()
    assert csv[0] == ("span_id,parent_span_id,depth,label,kind,start_offset_ms,duration_ms,"
                      "end_offset_ms,critical,tokens,cost_usd,status,retries")
    assert csv[4].startswith("toolB,root,2,tool fetch,tool,320.0,1000.0,1320.0,True,")


def test_critical_path_is_the_chain_that_ends_last(cli: Invoke, parallel_store: None) -> None:
    doc = _json(cli, "show", PARALLEL, "--waterfall", "--format", "json")
    critical = {s["span_id"]: s["critical"] for s in doc["spans"]}
    # fetch ran longer than search beside it: the run waited for fetch, never for search
    assert critical == {"root": True, "llm1": True, "toolA": False, "toolB": True,
                        "llm2": True, "llm3": True}


def test_parallel_tools_overlap_on_the_chart(cli: Invoke, parallel_store: None) -> None:
    chart = _chart(cli, PARALLEL)
    call, search, fetch = (_bar(_line(chart, label)) for label in ("#1 gpt-4o", "tool search", "tool fetch"))
    root = _bar(_line(chart, "agent planner"))
    assert search[0] == fetch[0] and search[1] < fetch[1]  # side by side, fetch longer
    assert call[1] <= search[0]  # the tools ran after the call answered
    assert (search[2], fetch[2], call[2]) == ("░", "█", "█")  # only search is off the path
    # the axis is the trace (under the heading's `0 … 2.00 s`): the root's bar covers it, and
    # the tools' bars are as long as their times make them
    heading = chart.splitlines()[1]
    assert heading.endswith("2.00 s") and root == (heading.index("  0 ") + 2, len(heading), "█")
    width = root[1] - root[0]
    assert fetch[1] - fetch[0] == pytest.approx(width * 1000 / 2000, abs=1)
    assert search[1] - search[0] == pytest.approx(width * 400 / 2000, abs=1)
    assert "✗" in _line(chart, "#2 gpt-4o") and "↻1" in _line(chart, "#3 gpt-4o")
    rows = [line for line in chart.splitlines() if BAR.search(line)]
    assert len(rows) == 6 + 1  # a bar per span, and the legend's


def test_fits_80_columns_and_every_bar_keeps_a_column(cli: Invoke, stored: Stored,
                                                      store_cache: StoreCache) -> None:
    rows = parallel_rows()
    rows[0]["name"] = "a planner whose name is far too long to fit beside its numbers " * 3
    rows.append(_span("blip", "root", "tool", "blip", 1990, 0.5, tool_name="blip"))
    stored(str(store_cache.file("parallel-long.jsonl", rows)))
    chart = _chart(cli, PARALLEL)
    assert max(map(len, chart.splitlines())) <= 80
    assert "agent a planner whose" in chart and "…" in _line(chart, "agent a planner")
    bars = [_bar(_line(chart, label)) for label in ("tool blip", "tool search", "#3 gpt-4o ↻1")]
    assert all(last - first >= 1 for first, last, _ in bars)


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", [120, 60, 40, 24])
def test_a_terminal_gets_its_width_and_colour(parallel_store: None, isolated_store: Path,
                                              columns: int) -> None:
    def drawn(**environ: str) -> str:
        stdout = FakeTTY()
        env = Environment.of(io.StringIO(), stdout, io.StringIO(),
                             {"COLUMNS": str(columns), "TRACECLI_DB": str(isolated_store), **environ})
        result = CliRunner().invoke(app, ["show", PARALLEL, "--waterfall"], obj=env,
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return stdout.getvalue()

    plain = drawn(NO_COLOR="1")
    assert "\x1b[" not in plain
    lines = plain.splitlines()
    assert max(map(len, lines)) <= columns
    assert max(map(len, lines)) > columns - 10  # the bars take the room there is
    assert len([line for line in lines if BAR.search(line)]) >= 6  # every span keeps its bar
    assert "\x1b[" in drawn()


def test_untimed_and_folded_spans(cli: Invoke, stored: Stored) -> None:
    stored(OTLP)
    folded = _json(cli, "show", OTLP_TRACE, "--waterfall", "--format", "json")
    assert [s["label"].split()[0] for s in folded["spans"]] == [
        "agent", "#1", "tool", "#2", "tool", "#3", "tool", "#4"]
    # the tool spans sit under the call that asked for them, and ran after it
    assert [s["depth"] for s in folded["spans"]] == [0, 1, 2, 1, 2, 1, 2, 1]
    for call, tool in zip(folded["spans"][1::2], folded["spans"][2::2], strict=False):
        assert tool["start_offset_ms"] >= call["end_offset_ms"]
    assert folded["duration_ms"] == folded["spans"][0]["duration_ms"] == 3643


GOLDEN_CASES = [
    ("show-reference-waterfall.table", "samples", [REFERENCE_TRACE]),
    ("show-cache-retries-waterfall.table", "samples", ["trc_b81d0e55a7c2"]),
    ("show-reference-waterfall.json", "samples", [REFERENCE_TRACE, "--format", "json"]),
    ("fixture-otlp-waterfall.table", "otlp", [OTLP_TRACE]),
    ("parallel-waterfall.table", "parallel", [PARALLEL]),
]


@pytest.mark.parametrize(("name", "source", "args"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_output_matches_golden(cli: Invoke, stored: Stored, store_cache: StoreCache,
                               name: str, source: str, args: list[str]) -> None:
    """As tests/test_golden.py: `UPDATE_GOLDEN=1` rewrites the files, and the diff is reviewed."""
    inputs = {"samples": str(SAMPLES), "otlp": OTLP,
              "parallel": str(store_cache.file("parallel.jsonl", parallel_rows()))}
    stored(inputs[source])
    result = cli("show", *args[:1], "--waterfall", *args[1:])
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 to write it"
    assert result.stdout == path.read_text(), f"{' '.join(args)} differs from {path.name}"
