"""Hypothesis against every reader: arbitrary JSON in every declared field is a clean record or
a clean error, never a crash; and whatever is ingested round-trips through the canonical export
(`tracecli spans --format jsonl`) unchanged."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from tests.conftest import sample_rows
from tracecli.cli.main import app
from tracecli.ingest.formats.base import Reader
from tracecli.ingest.formats.registry import READERS

EXAMPLES = int(os.environ.get("TRACECLI_FUZZ_EXAMPLES", "6"))  # deeper: TRACECLI_FUZZ_EXAMPLES=200
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
# Of the examples of arbitrary values, at least this share must be stored (not rejected, and
# making at least one span or feedback row): a reader that turns everything away fails.
LANDED = 0.25

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
           | st.sampled_from(["", "0", "1", "true", "null", "{}", "[]", "1e999", "2025-03-04T10:15:02Z",
                              "1741083302", '{"messages": []}', "[bold]x[/]", "\x1b[2J", "sk-x"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)
content = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
numbers = st.integers(-(10**9), 10**9) | st.floats(-1e6, 1e6, allow_nan=False)

# The fields without which a reader makes nothing of a record (no id, no trace, no span): each
# generated record has them, with a plausible value three times in four and arbitrary JSON
# otherwise, so that a useful share of the examples is stored and goes on to the views and the
# round trip. Every other declared field is present or not, with arbitrary JSON.
KEYS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "tracecli": {"record_key": ids, "trace_id": ids, "span_id": ids},
    "portkey": {"id": ids},
    "litellm": {"id": ids},
    "langsmith": {"id": ids, "run_type": st.sampled_from(["llm", "chain", "tool", "retriever"])},
    "langfuse": {"id": ids, "traceId": ids,
                 "type": st.sampled_from(["GENERATION", "SPAN", "EVENT", "TOOL", "AGENT"])},
    "phoenix": {"context.trace_id": ids, "context.span_id": ids},
    "openinference": {"traceId": ids, "spanId": ids},
    "otlp": {"traceId": ids, "spanId": ids},
    "openai": {"id": ids},
    "feedback": {"trace_id": ids, "value": numbers},
    "openai-agents": {"object": st.sampled_from(["trace.span", "trace"]), "id": ids, "trace_id": ids},
    "mlflow": {"info": st.fixed_dictionaries({"trace_id": ids}, optional={"tags": json_values}),
               "data": st.fixed_dictionaries({"spans": st.lists(st.fixed_dictionaries(
                   {"span_id": ids, "trace_id": ids}, optional={"attributes": json_values,
                                                             "parent_span_id": ids}),
                   max_size=3)})},
}
# OTLP records are spans on their own or inside the resourceSpans envelope
ENVELOPED = {"otlp", "openinference"}


def mostly(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.integers(0, 3).flatmap(lambda i: plausible if i else json_values)


def record_for(reader: Reader) -> st.SearchStrategy[dict[str, Any]]:
    keys = KEYS[reader.name]  # a reader added to the registry needs its key fields here
    assert set(keys) <= set(reader.columns), (reader.name, set(keys) - set(reader.columns))
    record = st.fixed_dictionaries(
        {name: mostly(value) for name, value in keys.items()},
        optional={name: json_values for name in reader.columns if name not in keys})
    if reader.name not in ENVELOPED:
        return record
    envelope = st.builds(
        lambda resource, spans: {"resourceSpans": [{"resource": {"attributes": resource},
                                                    "scopeSpans": [{"spans": spans}]}]},
        json_values, st.lists(record, min_size=1, max_size=3))
    return record | envelope


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def clean(result: Result, *args: str) -> None:
    assert result.exit_code in (0, 3), (args, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.output, (args, result.output)


def stored_rows(db: Path, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def round_trip(db: Path, work: Path) -> list[dict[str, Any]]:
    """Export, ingest the export into a fresh store, export again: the same bytes, and the same
    traces. Returns the traces."""
    first = run("spans", "--db", str(db), "--format", "jsonl")
    clean(first, "spans")
    if not first.stdout.strip():
        return []
    export = work / "export.jsonl"
    export.write_text(first.stdout)
    again = work / "again.duckdb"
    result = run("ingest", "--db", str(again), str(export))
    assert result.exit_code == 0, result.output
    second = run("spans", "--db", str(again), "--format", "jsonl")
    assert second.stdout == first.stdout
    traces = [run("traces", "--db", str(d), "--format", "jsonl", "-n", "0").stdout for d in (db, again)]
    assert traces[0] == traces[1]
    return [json.loads(line) for line in traces[0].split("\n") if line]  # not splitlines: \x85


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
def test_arbitrary_values_in_every_field(reader: Reader) -> None:
    outcomes: list[bool] = []  # per example: was something stored

    @FUZZ
    @given(records=st.lists(record_for(reader), min_size=1, max_size=3))
    def check(records: list[dict[str, Any]]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            path = work / "fuzz.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in records))
            db = work / "store.duckdb"
            result = run("ingest", "--db", str(db), "--format", reader.name, str(path))
            clean(result, "ingest", reader.name)
            outcomes.append(result.exit_code == 0 and stored_rows(db, reader.table) > 0)
            if result.exit_code:
                return
            for view in (["traces"], ["cost", "--by", "tag"], ["spans"]):
                clean(run(*view, "--db", str(db)), *view)
            traces = round_trip(db, work)
            if traces:
                show = ["show", "--db", str(db), "--full", "--", traces[0]["trace_id"]]
                clean(run(*show), "show")

    check()
    assert outcomes
    landed = sum(outcomes)
    assert landed >= max(1, LANDED * len(outcomes)), (
        f"{reader.name}: {landed} of {len(outcomes)} examples stored anything")


# --- valid Portkey records: the reference format, every field in a plausible shape ------------


@st.composite
def portkey_records(draw: st.DrawFn) -> dict[str, Any]:
    base = dict(draw(st.sampled_from(sample_rows())))
    base["id"] = draw(ids)
    base["trace_id"] = draw(st.none() | ids)
    base["created_at"] = draw(st.sampled_from([
        base["created_at"], 1741083302, 1741083302123, "2025-03-04 10:15:02.5", "2025-03-04T10:15:02+02:00"]))
    base["cost"] = draw(st.none() | st.floats(0, 100, allow_nan=False) | st.integers(0, 10**6)
                        | st.floats(0, 100, allow_nan=False).map(str))
    for field in ("req_units", "res_units", "total_units", "response_time"):
        base[field] = draw(st.none() | st.integers(0, 10**7) | st.integers(0, 10**7).map(str))
    base["metadata"] = draw(st.dictionaries(ids, st.none() | content, max_size=3))
    request = json.loads(json.dumps(base["request"]))
    if "messages" in request:
        request["messages"] = [*request["messages"], {"role": "user", "content": draw(content)}]
    base["request"] = draw(st.sampled_from([request, json.dumps(request)]))
    response = json.loads(json.dumps(base["response"]))
    if "choices" in response:
        response["choices"][0]["message"]["content"] = draw(content)
    base["response"] = response
    return base


@FUZZ
@given(records=st.lists(portkey_records(), min_size=1, max_size=6))
def test_valid_portkey_records_round_trip(records: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "portkey.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        db = work / "store.duckdb"
        result = run("ingest", "--db", str(db), str(path))
        assert result.exit_code == 0, result.output
        assert f"{len(records)} records" in result.stderr
        assert round_trip(db, work)


@pytest.mark.parametrize("value", ["9223372036854776.0", "1e300", "-1e15"])
def test_absurd_durations_are_no_crash(tmp_path: Path, value: str) -> None:
    """Found by the fuzzer: a latency of 292,000 years overflowed the trace's end time."""
    path = tmp_path / "latency.jsonl"
    path.write_text('{"request": {"messages": [{"role": "user", "content": "hi"}]}, '
                    f'"response": {{"choices": []}}, "latency_ms": {value}, "trace_id": "t1", '
                    '"timestamp": "2025-01-01T00:00:00Z"}\n')
    db = tmp_path / "store.duckdb"
    assert run("ingest", "--db", str(db), "--format", "openai", str(path)).exit_code == 0
    for view in (["traces"], ["show", "t1", "--full"], ["replay", "t1", "--speed", "0"]):
        clean(run(*view, "--db", str(db)), *view)
