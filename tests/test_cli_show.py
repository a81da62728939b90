"""`show` and `replay` on the reference run: the 3^5 → ×36 → ^2 chain must read at a glance."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_TRACE, SAMPLE_JSONL, Invoke

SNAPSHOT = Path(__file__).parent / "snapshots" / "show_reference.txt"


def test_show_reference_tree_matches_snapshot(cli: Invoke, sample_store: None) -> None:
    result = cli("show", REFERENCE_TRACE)
    assert result.exit_code == 0, result.stderr
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(result.stdout)
    assert result.stdout == SNAPSHOT.read_text()
    assert "\x1b[" not in result.stdout  # NO_COLOR and not a terminal: plain text


def test_show_lists_tool_calls_in_order_with_results(cli: Invoke, sample_store: None) -> None:
    out = cli("show", REFERENCE_TRACE[:8]).stdout  # a unique prefix is enough
    chain = ["exponentiate(base=3, exponent=5) → 243",
             "multiply(first_int=243, second_int=36) → 8748",
             "exponentiate(base=8748, exponent=2) → 76527504",
             "is 76,527,504."]
    positions = [out.index(step) for step in chain]
    assert positions == sorted(positions)
    assert out.count("chat gpt-4o-mini") == 4


def test_show_marks_cache_hit_and_retries(cli: Invoke, sample_store: None) -> None:
    out = cli("show", "trc_b81d0e55a7c2").stdout
    assert "cache HIT" in out
    assert "2 retries" in out


def test_show_failed_call_names_status_and_error(cli: Invoke, sample_store: None) -> None:
    out = cli("show", "trc_fail").stdout
    assert "error 429" in out and "Rate limit reached" in out


def test_show_embeddings_before_chat(cli: Invoke, sample_store: None) -> None:
    out = cli("show", "trc_rag").stdout
    assert out.index("#1 embeddings text-embedding-3-small") < out.index("#2 chat gpt-4o")


def test_show_full_adds_messages(cli: Invoke, sample_store: None) -> None:
    out = cli("show", REFERENCE_TRACE, "--full").stdout
    assert "user: Take 3 to the fifth power" in out
    assert "system: You are a helpful assistant" in out
    assert "tool: [call_ref1_xK3pQ9vL] 243" in out


def test_show_json_is_the_same_tree(cli: Invoke, sample_store: None) -> None:
    doc = json.loads(cli("show", REFERENCE_TRACE, "--format", "json").stdout)
    assert doc["trace"]["trace_id"] == REFERENCE_TRACE
    assert doc["trace"]["llm_calls"] == 4 and doc["trace"]["tool_calls"] == 3
    calls = [c for span in doc["spans"] for c in span["tool_calls"]]
    assert [(c["name"], c["arguments"], c["result"]) for c in calls] == [
        ("exponentiate", {"base": 3, "exponent": 5}, "243"),
        ("multiply", {"first_int": 243, "second_int": 36}, "8748"),
        ("exponentiate", {"base": 8748, "exponent": 2}, "76527504"),
    ]
    assert [s["call_number"] for s in doc["spans"]] == [1, 2, 3, 4]
    assert doc["answer"].endswith("is 76,527,504.")
    assert set(doc["spans"][0]) >= {"span_id", "model", "prompt_tokens", "completion_tokens",
                                    "cost_usd", "cost_source", "duration_ms", "cache_status",
                                    "retries", "tool_calls", "children", "output"}


def test_show_from_stdin_needs_no_store(cli: Invoke, isolated_store: Path) -> None:
    result = cli("show", REFERENCE_TRACE, "--from", "-", input=SAMPLE_JSONL.read_text())
    assert result.exit_code == 0, result.stderr
    assert "multiply(first_int=243, second_int=36) → 8748" in result.stdout
    assert not isolated_store.exists()


@pytest.mark.parametrize("ref, code, words", [("nope", 4, "no trace matches 'nope'"),
                                              ("trc_", 2, "is ambiguous")])
def test_show_unknown_or_ambiguous_id(cli: Invoke, sample_store: None, ref: str, code: int,
                                      words: str) -> None:
    result = cli("show", ref)
    assert result.exit_code == code
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_replay_plays_steps_in_order(cli: Invoke, sample_store: None) -> None:
    out = cli("replay", REFERENCE_TRACE, "--speed", "0").stdout
    order = ["call #1 → gpt-4o-mini", "user: Take 3 to the fifth power",
             "exponentiate(base=3, exponent=5)", "result: 243", "call #2 → gpt-4o-mini",
             "multiply(first_int=243, second_int=36)", "result: 8748",
             "exponentiate(base=8748, exponent=2)", "result: 76527504",
             "call #4 ← gpt-4o-mini", "is 76,527,504."]
    positions = [out.index(step) for step in order]
    assert positions == sorted(positions)


def test_replay_json_steps_carry_recorded_offsets(cli: Invoke, sample_store: None) -> None:
    steps = json.loads(cli("replay", REFERENCE_TRACE, "--format", "json").stdout)
    offsets = [s["at_ms"] for s in steps]
    assert offsets == sorted(offsets)
    assert steps[0]["kind"] == "send" and offsets[0] == 0
    assert [s["title"] for s in steps if s["kind"] == "tool"] == [
        "exponentiate(base=3, exponent=5)", "multiply(first_int=243, second_int=36)",
        "exponentiate(base=8748, exponent=2)"]
    assert steps[-1]["kind"] == "receive"
    assert offsets[-1] == pytest.approx(3762.0)  # last call starts at +2.662 s and takes 1.1 s


def test_replay_waits_recorded_gaps_scaled_by_speed(cli: Invoke, sample_store: None) -> None:
    import io

    from rich.console import Console

    from tracecli.cli.common import read_store
    from tracecli.read.replay import steps
    from tracecli.read.tree import build
    from tracecli.render.replay import play

    with read_store(None, None) as con:
        plan = steps(build(con, REFERENCE_TRACE))
    waits: list[float] = []
    play(plan, Console(file=io.StringIO()), speed=2.0, max_wait=0.4, sleep=waits.append)
    gaps = [(b.at_ms - a.at_ms) / 1000 / 2.0 for a, b in zip(plan, plan[1:], strict=False)]
    assert waits == [min(g, 0.4) for g in gaps if g > 0]
