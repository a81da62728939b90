"""MLflow traces through the real CLI: the reference run as MLflow 3 and MLflow 2 wrote it
(tests/fixtures/formats/build_mlflow.py) reads like every other format's, the cost MLflow logged
is kept, failures show, and a trace line shares a stream with another format's records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests import test_formats as formats
from tests.conftest import SAMPLE_JSONL, Invoke, Stored
from tests.test_formats import FORMATS, fixture_store, llm_nodes, show_json, walk
from tracecli.ingest.formats.mlflow import TRACE_KEY

V3 = "mlflow/traces.jsonl"
V2 = "mlflow/trace_v2.json"
V3_TRACE = "tr-3f6a0c2d9b8e4f71a5c3d2e1f0b9a8c7"
V2_TRACE = "tr-5b8c2e4f1d0a4b93c7e5f4a3b2d1c0e9"
LANGGRAPH_TRACE = "tr-4a7b1d3e0c9f4a82b6d4e3f2a1c0b9d8"
CASES = [("mlflow", V3, V3_TRACE, "mlflow"), ("mlflow-v2", V2, V2_TRACE, "mlflow")]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), CASES, ids=IDS)
def test_reference_run_reads_the_same(cli: Invoke, stored: Stored, case: str, path: str,
                                      trace: str, fmt: str) -> None:
    formats.test_reference_run_reads_the_same_from_every_format(cli, stored, case, path, trace, fmt)


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), CASES, ids=IDS)
def test_agent_span_holds_the_calls_and_their_tools(cli: Invoke, stored: Stored, case: str,
                                                    path: str, trace: str, fmt: str) -> None:
    formats.test_agent_span_contains_the_llm_calls_and_tool_calls(cli, stored, case, path, trace, fmt)


def test_logged_cost_is_kept_and_a_trace_without_one_is_priced(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, "mlflow")
    assert {n["cost_source"] for n in llm_nodes(show_json(cli, V3_TRACE))} == {"logged"}
    assert {n["cost_source"] for n in llm_nodes(show_json(cli, V2_TRACE))} == {"computed"}
    # a discounted rate, logged: kept as it is, not the list price
    call = llm_nodes(show_json(cli, LANGGRAPH_TRACE))[0]
    assert call["cost_source"] == "logged"
    assert call["cost_usd"] == pytest.approx((96 * 0.15 + 18 * 0.60) / 1e6 * 0.5)


def test_a_failed_span_shows_as_an_error(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, V3)
    tree = show_json(cli, LANGGRAPH_TRACE)
    assert tree["trace"]["status"] == "error"
    first, failed = llm_nodes(tree)
    assert first["status"] == "ok" and failed["status"] == "error"
    assert failed["http_status"] == 429 and "Rate limit reached" in failed["error"]
    # the tool ran for the call that asked for it, joined by the id in its ToolMessage
    [tool] = first["tool_calls"]
    assert (tool["name"], tool["arguments"], tool["result"]) == ("multiply", {"first_int": 6, "second_int": 7}, "42")
    assert tool["call_id"] == "call_lg1_Wq8nR2tY" and tool["tool_span_id"]
    text = cli("show", LANGGRAPH_TRACE).stdout
    assert re.search(r"#2 chat gpt-4o-mini .*error 429: Error code: 429", text), text


def test_user_tags_show_and_mlflow_keys_stay_with_the_root(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, V3)
    tree = show_json(cli, V3_TRACE)
    assert tree["trace"]["tags"] == {"env": "prod", "team": "agents", "session_id": "session-42",
                                     "user_id": "u_1001"}
    root = tree["spans"][0]
    system = json.loads(root["metadata"][TRACE_KEY])
    assert system["mlflow.traceName"] == "run_agent" and "mlflow.trace.tokenUsage" in system
    assert not [n for n in walk(root["children"]) if TRACE_KEY in (n["metadata"] or {})]


def test_a_json_array_of_traces(cli: Invoke, tmp_path: Path) -> None:
    lines = (FORMATS / V3).read_text().splitlines()
    path = tmp_path / "traces.json"
    path.write_text(json.dumps([json.loads(line) for line in lines], indent=2))
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    listed = json.loads(cli("traces", "--format", "json").stdout)
    assert {t["trace_id"] for t in listed} == {V3_TRACE, LANGGRAPH_TRACE}


def test_a_trace_line_and_a_portkey_line_on_stdin(cli: Invoke) -> None:
    trace_line = (FORMATS / V3).read_text().splitlines()[0]
    portkey_line = SAMPLE_JSONL.read_text().splitlines()[0]
    result = cli("ingest", "-", input=f"{trace_line}\n{portkey_line}\n")
    assert result.exit_code == 0, result.stderr
    assert re.search(r"8 mlflow\b", result.stderr) and re.search(r"1 portkey\b", result.stderr)
    assert show_json(cli, V3_TRACE)["trace"]["tool_calls"] == 3
    portkey = json.loads(portkey_line)
    assert llm_nodes(show_json(cli, portkey["trace_id"]))[0]["model"] == portkey["ai_model"]
