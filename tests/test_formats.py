"""Every log and trace format tracecli reads, through the real CLI: the reference run
(3^5 → ×36 → ^2) written per format in tests/fixtures/formats/ renders the same tree, tokens
and cost from each, and each format's edge shapes are accepted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, Stored

FORMATS = Path(__file__).parent / "fixtures" / "formats"
REFERENCE_CALLS = [("exponentiate", {"base": 3, "exponent": 5}, "243"),
                   ("multiply", {"first_int": 243, "second_int": 36}, "8748"),
                   ("exponentiate", {"base": 8748, "exponent": 2}, "76527504")]
REFERENCE_TOOL_LINES = ["tool exponentiate(base=3, exponent=5) → 243",
                        "tool multiply(first_int=243, second_int=36) → 8748",
                        "tool exponentiate(base=8748, exponent=2) → 76527504"]
ANSWER_END = "is 76,527,504."
TOTAL_TOKENS = 142 + 173 + 204 + 235 + 18 + 19 + 20 + 27
# gpt-4o-mini list prices: $0.15 / $0.60 per million tokens
REFERENCE_COST = ((142 + 173 + 204 + 235) * 0.15 + (18 + 19 + 20 + 27) * 0.60) / 1e6

# (format, fixture path, trace id or prefix, summary format name)
CASES = [
    ("otlp", "otlp/genai_traces.jsonl", "4bf92f3577b34da6a3ce929d0e0e4736", "otlp"),
    ("otlp-array", "otlp/span_array.json", "6df92f3577b34da6a3ce929d0e0e4738", "otlp"),
    ("otlp-split", "otlp/split", "5cf92f3577b34da6a3ce929d0e0e4737", "otlp"),
    ("openinference", "openinference/langchain_traces.jsonl", "7ef92f3577b34da6a3ce929d0e0e4739",
     "openinference"),
    ("phoenix-parquet", "openinference/phoenix_spans.parquet", "8ff92f3577b34da6a3ce929d0e0e473a",
     "phoenix"),
    ("phoenix-json", "openinference/phoenix_spans.json", "9af92f3577b34da6a3ce929d0e0e473b", "phoenix"),
    ("litellm", "litellm/payloads.jsonl", "litellm-trace-7f3a2c91", "litellm"),
    ("litellm-s3", "litellm/s3", "litellm-trace-b81d0e55", "litellm"),
    ("litellm-spendlogs", "litellm/spend_logs.jsonl", "litellm-session-c3d9", "litellm"),
    ("langsmith", "langsmith/runs.jsonl", "a1000000-7a1b-4c2d-8e3f-0123456789ab", "langsmith"),
    ("langsmith-parquet", "langsmith/runs_export.parquet", "b2000000-7a1b-4c2d-8e3f-0123456789ab",
     "langsmith"),
    ("langfuse-download", "langfuse/trace_download.json", "lf-trace-7f3a2c91", "langfuse"),
    ("langfuse-export", "langfuse/observations.jsonl", "lf-trace-b81d0e55", "langfuse"),
    ("openllmetry-langchain", "openllmetry/langchain_v0_54.jsonl", "1af92f3577b34da6a3ce929d0e0e473c",
     "otlp"),
    ("openllmetry-sdk", "openllmetry/sdk_openai_v0_30.jsonl", "2bf92f3577b34da6a3ce929d0e0e473d", "otlp"),
    ("langfuse-otel-v3", "langfuse_otel/langchain_v3_0.jsonl", "3cf92f3577b34da6a3ce929d0e0e473e", "otlp"),
    ("langfuse-otel-v4", "langfuse_otel/observe_v4.jsonl", "4df92f3577b34da6a3ce929d0e0e473f", "otlp"),
    ("mlflow", "mlflow/traces.jsonl", "tr-3f6a0c2d9b8e4f71a5c3d2e1f0b9a8c7", "mlflow"),
    ("mlflow-v2", "mlflow/trace_v2.json", "tr-5b8c2e4f1d0a4b93c7e5f4a3b2d1c0e9", "mlflow"),
    ("openai-agents-body", "openai_agents/ingest_body.json", "trace_639301ed886854a038d7e219cd0bf4d4",
     "openai-agents"),
    ("openai-agents-items", "openai_agents/items.jsonl", "trace_413321b8f0f49c944592326c4e16b79c",
     "openai-agents"),
]
IDS = [c[0] for c in CASES]


def ingest(cli: Invoke, *paths: str) -> str:
    result = cli("ingest", *[str(FORMATS / p) for p in paths])
    assert result.exit_code == 0, result.stderr
    return result.stderr


def fixture_store(stored: Stored, *paths: str) -> str:
    """The test's empty store as `tracecli ingest` of these fixtures leaves it (each set of
    fixtures is ingested once per session and copied); the ingest's stderr."""
    return stored(*[str(FORMATS / p) for p in paths])


def show_json(cli: Invoke, trace: str, *extra: str) -> dict[str, Any]:
    result = cli("show", trace, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        out.append(node)
        out.extend(walk(node["children"]))
    return out


def llm_nodes(tree: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in walk(tree["spans"]) if n["kind"] == "llm"]


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), CASES, ids=IDS)
def test_reference_run_reads_the_same_from_every_format(
        cli: Invoke, stored: Stored, case: str, path: str, trace: str, fmt: str) -> None:
    summary = fixture_store(stored, path)
    assert re.search(rf"\d+ {fmt}\b", summary), summary

    text = cli("show", trace).stdout
    tool_lines = [line.split("tool ", 1)[1].split(" · ")[0] for line in text.splitlines()
                  if "── tool " in line]
    assert ["tool " + t for t in tool_lines] == REFERENCE_TOOL_LINES, text
    assert len(re.findall(r"#\d chat gpt-4o-mini", text)) == 4, text
    assert [int(m) for m in re.findall(r"#(\d) chat", text)] == [1, 2, 3, 4], text
    assert "answer: The result of taking 3 to the fifth power" in text and ANSWER_END in text

    tree = show_json(cli, trace)
    calls = llm_nodes(tree)
    assert len(calls) == 4
    asked = [(c["name"], c["arguments"], c["result"]) for n in calls for c in n["tool_calls"]]
    assert asked == REFERENCE_CALLS
    assert [len(n["tool_calls"]) for n in calls] == [1, 1, 1, 0]  # each call owns what it asked
    assert tree["trace"]["llm_calls"] == 4 and tree["trace"]["tool_calls"] == 3
    assert tree["trace"]["total_tokens"] == TOTAL_TOKENS
    assert tree["trace"]["prompt_tokens"] == 754 and tree["trace"]["completion_tokens"] == 84
    assert tree["trace"]["cost_usd"] == pytest.approx(REFERENCE_COST, rel=1e-3)
    assert tree["answer"].endswith(ANSWER_END)

    cost = json.loads(cli("cost", "--by", "trace", "--format", "json").stdout)
    row = next(r for r in cost["rows"] if r["group"] == trace)
    assert row["calls"] == 4 and row["total_tokens"] == TOTAL_TOKENS and row["unpriced"] == 0
    assert row["cost_usd"] == pytest.approx(REFERENCE_COST, rel=1e-3)


@pytest.mark.parametrize(("case", "path", "trace", "fmt"),
                         [c for c in CASES if c[0] in ("otlp", "openinference", "phoenix-parquet",
                                                       "langsmith", "langfuse-download")],
                         ids=["otlp", "openinference", "phoenix", "langsmith", "langfuse"])
def test_agent_span_contains_the_llm_calls_and_tool_calls(
        cli: Invoke, stored: Stored, case: str, path: str, trace: str, fmt: str) -> None:
    fixture_store(stored, path)
    tree = show_json(cli, trace)
    assert len(tree["spans"]) == 1, tree["spans"]
    root = tree["spans"][0]
    assert root["kind"] in ("agent", "chain") and root["duration_ms"] > 3000
    children = root["children"]
    assert [c["kind"] for c in children] == ["llm"] * 4  # framework chains folded away
    assert all(c["parent_span_id"] for c in children)
    # every tool span was absorbed into the call that asked for it: none shown twice
    assert not [n for n in walk(tree["spans"]) if n["kind"] == "tool"]
    assert all(c["tool_span_id"] for n in children for c in n["tool_calls"])


def test_all_spans_keeps_framework_noise(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, "openinference/langchain_traces.jsonl")
    trace = "7ef92f3577b34da6a3ce929d0e0e4739"
    folded = walk(show_json(cli, trace)["spans"])
    every = walk(show_json(cli, trace, "--all-spans")["spans"])
    assert len(folded) == 5
    names = {n["name"] for n in every}
    assert {"RunnableSequence", "ChatPromptTemplate", "RunnableLambda",
            "OpenAIToolsAgentOutputParser"} <= names
    assert len(every) == 1 + 4 * 7  # tool spans stay inside their calls
    text = cli("show", trace, "--all-spans").stdout
    assert text.count("── tool ") == 3


def test_a_directory_of_every_format_ingests_in_one_command(cli: Invoke, stored: Stored) -> None:
    summary = fixture_store(stored, ".")  # the store tests/test_toolcalls.py also reads
    for name in ("otlp", "openinference", "phoenix", "litellm", "langsmith", "langfuse", "mlflow",
                 "openai-agents"):
        assert re.search(rf"\d+ {name}\b", summary), summary
    listed = json.loads(cli("traces", "--format", "json", "--limit", "100").stdout)
    # every case's run is priced; the Responses-model run of the Agents SDK logs no model
    reference = [t for t in listed if t["llm_calls"] == 4 and not t["unpriced_calls"]]
    assert len(reference) == len(CASES)
    assert {t["tool_calls"] for t in reference} == {3}
    assert {t["total_tokens"] for t in reference} == {TOTAL_TOKENS}


def test_otlp_log_records_join_their_spans_in_either_order(cli: Invoke, stored: Stored) -> None:
    trace = "5cf92f3577b34da6a3ce929d0e0e4737"
    fixture_store(stored, "otlp/split/traces.jsonl")
    before = show_json(cli, trace)
    assert not [c for n in llm_nodes(before) for c in n["tool_calls"] if c["call_id"] and not c["name"]]
    assert before["answer"] is None  # spans alone carry no content
    ingest(cli, "otlp/split/logs.jsonl")
    after = show_json(cli, trace)
    asked = [(c["name"], c["arguments"], c["result"]) for n in llm_nodes(after) for c in n["tool_calls"]]
    assert asked == REFERENCE_CALLS
    assert after["answer"].endswith(ANSWER_END)
    full = cli("show", trace, "--full").stdout
    assert "system: You are a helpful assistant" in full


def test_otlp_logs_before_traces(cli: Invoke, stored: Stored) -> None:
    trace = "5cf92f3577b34da6a3ce929d0e0e4737"
    fixture_store(stored, "otlp/split/logs.jsonl")
    ingest(cli, "otlp/split/traces.jsonl")
    tree = show_json(cli, trace)
    assert [c["name"] for n in llm_nodes(tree) for c in n["tool_calls"]] == [
        "exponentiate", "multiply", "exponentiate"]


def test_genai_costs_are_computed_and_logged_costs_kept(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, ".")  # OTLP GenAI and OpenInference side by side
    otlp = llm_nodes(show_json(cli, "4bf92f3577b34da6a3ce929d0e0e4736"))
    assert {n["cost_source"] for n in otlp} == {"computed"}  # GenAI spans carry no cost
    oi = llm_nodes(show_json(cli, "7ef92f3577b34da6a3ce929d0e0e4739"))
    assert [n["cost_source"] for n in oi] == ["logged", "logged", "computed", "computed"]


def test_litellm_failure_and_tags(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, "litellm/payloads.jsonl")
    tree = show_json(cli, "litellm-trace-fail-01")
    call = llm_nodes(tree)[0]
    assert call["status"] == "error" and "RateLimitError" in call["error"]
    assert tree["trace"]["status"] == "error"
    tags = show_json(cli, "litellm-trace-7f3a2c91")["trace"]["tags"]
    assert tags["tags"] == "math,agents" and tags["env"] == "prod" and tags["team"] == "agents"


def test_spend_logs_cache_hit_string(cli: Invoke, stored: Stored) -> None:
    fixture_store(stored, "litellm/spend_logs.jsonl")
    calls = llm_nodes(show_json(cli, "litellm-session-c3d9"))
    assert {n["cache_status"] for n in calls} == {"MISS"}


def test_format_override_and_listing(cli: Invoke) -> None:
    listed = json.loads(cli("formats", "--format", "json").stdout)
    names = [r["name"] for r in listed]
    for name in ("otlp", "openinference", "phoenix", "litellm", "langsmith", "langfuse", "mlflow",
                 "openai-agents"):
        assert name in names
    assert all(r["description"] for r in listed)
    result = cli("ingest", "--format", "langfuse", str(FORMATS / "langfuse" / "observations.jsonl"))
    assert result.exit_code == 0, result.stderr


def test_detection_failure_names_the_file_and_the_formats_tried(cli: Invoke, tmp_path: Path) -> None:
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"hello": "world"}\n')
    result = cli("ingest", str(odd))
    assert result.exit_code != 0
    assert "odd.jsonl" in result.stderr
    for name in ("otlp", "langsmith", "langfuse", "litellm"):
        assert name in result.stderr


@pytest.mark.parametrize("key", ["usageDetails", "usage_details"])
def test_langfuse_usage_details_count_the_tokens_their_details_left_out(
        cli: Invoke, isolated_store: Path, tmp_path: Path, key: str) -> None:
    """Langfuse's `input`/`output` leave out the details its SDKs and server subtract from them
    (cache reads, reasoning): a call's prompt and completion tokens are their sums."""
    lines = (FORMATS / "langfuse" / "observations.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    generation = next(r for r in records if r["type"] == "GENERATION")
    generation.pop("usageDetails", None)
    generation.pop("usage_details", None)
    generation[key] = {"input": 80, "input_cache_read": 20, "output": 30, "output_reasoning": 10,
                       "total": 140}
    path = tmp_path / "observations.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli("ingest", str(path)).exit_code == 0
    trace = generation.get("traceId") or generation["trace_id"]
    call = next(n for n in llm_nodes(show_json(cli, trace)) if n["span_id"] == generation["id"])
    assert (call["prompt_tokens"], call["cached_tokens"], call["completion_tokens"]) == (100, 20, 40)
