"""`tracecli feedback add|list`: user feedback under Portkey's rules (value an integer from -10 to
10, weight from 0 to 1), stored as the feedback reader stores it, in every trace listing and
filter, in `show`, and in `export` and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REFERENCE_TRACE, Invoke

CLAUDE = "trc_cl_41aa09"  # no feedback in the samples


def ok(cli: Invoke, *args: str) -> tuple[str, str]:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout, result.stderr


def traces(cli: Invoke, *args: str, db: Path | None = None) -> dict[str, dict[str, Any]]:
    where = ("--db", str(db)) if db else ()
    rows = json.loads(ok(cli, "traces", "--limit", "0", "--format", "json", *args, *where)[0])
    return {r["trace_id"]: r for r in rows}


def records(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok(cli, "feedback", "list", "--limit", "0", "--format", "json", *args)[0])


def test_add_shows_in_traces_show_filters_and_list(cli: Invoke, sample_store: None) -> None:
    _, said = ok(cli, "feedback", "add", "trc_cl_41", "--value", "7", "--weight", "0.5",
                 "--meta", "comment=good summary", "--meta", "_user=u_77")  # a unique prefix
    assert said.strip() == f"added feedback +7 (weight 0.5) to {CLAUDE}: its score is now +7.0 (1 vote)"
    _, said = ok(cli, "feedback", "add", REFERENCE_TRACE, "--value", "3", "--weight", "0.5")
    assert said.strip().endswith("its score is now +7.0 (2 votes)")  # (9 * 1 + 3 * 0.5) / 1.5

    rows = traces(cli)
    assert (rows[CLAUDE]["feedback_score"], rows[CLAUDE]["feedback_count"]) == (7.0, 1)
    assert (rows[REFERENCE_TRACE]["feedback_score"], rows[REFERENCE_TRACE]["feedback_count"]) == (7.0, 2)
    table = ok(cli, "traces", "--limit", "0")[0]
    assert "+7.0 (1 vote)" in table and "+7.0 (2 votes)" in table
    assert "feedback +7.0 (2 votes)" in ok(cli, "show", REFERENCE_TRACE)[0]
    assert json.loads(ok(cli, "show", CLAUDE, "-f", "json")[0])["trace"]["feedback_score"] == 7.0

    assert set(traces(cli, "--min-score", "6")) == {CLAUDE, REFERENCE_TRACE}
    assert set(traces(cli, "--min-score", "5", "--max-score", "5")) == {"trc_b81d0e55a7c2"}
    assert set(traces(cli, "--max-score", "0")) == {"trc_4o_74dd32"}  # -4; none without feedback
    assert set(traces(cli, "--min-score", "7", "--tag", "env=dev")) == {CLAUDE}
    assert "showing 1 of 2 traces" in cli("traces", "--min-score", "6", "--limit", "1").stderr

    mine = records(cli, "--trace", CLAUDE)
    assert len(mine) == 1 and mine[0]["value"] == 7.0 and mine[0]["weight"] == 0.5
    assert mine[0]["metadata"] == {"comment": "good summary", "_user": "u_77"}
    assert mine[0]["source_file"] == "tracecli feedback add" and mine[0]["created_at"].endswith("Z")
    assert len(records(cli)) == 5  # the samples' three, and these two
    table = ok(cli, "feedback", "list", "--trace", REFERENCE_TRACE)[0]
    assert "+9.0" in table and "+3.0" in table and "0.50" in table


def test_feedback_is_exported_and_restored(cli: Invoke, sample_store: None, tmp_path: Path) -> None:
    ok(cli, "feedback", "add", CLAUDE, "--value", "-2", "--meta", "comment=too long")
    export = tmp_path / "export.jsonl"
    ok(cli, "export", "--output", str(export))
    added = [json.loads(line) for line in export.read_text().splitlines()
             if json.loads(line).get("source_file") == "tracecli feedback add"]
    assert len(added) == 1 and added[0]["trace_id"] == CLAUDE and added[0]["value"] == -2.0
    other = tmp_path / "restored.duckdb"
    ok(cli, "ingest", str(export), "--db", str(other))
    assert traces(cli, db=other)[CLAUDE]["feedback_score"] == -2.0
    again = ok(cli, "ingest", str(export), "--db", str(other))[1]
    assert "added 0 spans" in again and "feedback;" not in again  # the record's id is kept


def test_each_add_is_a_vote_of_its_own(cli: Invoke, sample_store: None) -> None:
    for value in ("1", "-1", "1"):
        ok(cli, "feedback", "add", CLAUDE, "--value", value)
    row = traces(cli)[CLAUDE]
    assert row["feedback_count"] == 3 and row["feedback_score"] == pytest.approx(1 / 3)
    assert "+0.3 (3 votes)" in ok(cli, "traces", "--limit", "0")[0]


@pytest.mark.parametrize("args, rule", [
    (("--value", "11"), "--value 11: the feedback value is an integer from -10 to 10"),
    (("--value", "-11"), "--value -11: the feedback value is an integer from -10 to 10"),
    (("--value", "7.5"), "--value 7.5: the feedback value is an integer from -10 to 10"),
    (("--value", "good"), "--value good: the feedback value is an integer from -10 to 10"),
    (("--value", "1", "--weight", "1.5"), "--weight 1.5: the feedback weight is a number from 0 to 1"),
    (("--value", "1", "--weight", "-0.1"), "--weight -0.1: the feedback weight is a number from 0 to 1"),
    (("--value", "1", "--weight", "nan"), "--weight nan: the feedback weight is a number from 0 to 1"),
    (("--value", "1", "--meta", "no-equals"), "--meta 'no-equals': expected KEY=VALUE"),
])
def test_bad_values_are_usage_errors_naming_the_rule(cli: Invoke, sample_store: None,
                                                     args: tuple[str, ...], rule: str) -> None:
    result = cli("feedback", "add", CLAUDE, *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"tracecli: error: {rule}"
    assert len(records(cli)) == 3  # nothing added


def test_bad_score_bounds_are_usage_errors(cli: Invoke, sample_store: None) -> None:
    for option, value in (("--min-score", "11"), ("--max-score", "-10.5"), ("--min-score", "nan")):
        result = cli("traces", option, value)
        assert result.exit_code == 2 and "a feedback score is from -10 to 10" in result.stderr


def test_unknown_trace_is_refused_unless_forced(cli: Invoke, sample_store: None) -> None:
    result = cli("feedback", "add", "trc_later", "--value", "4")
    assert result.exit_code == 4
    assert result.stderr.strip() == ("tracecli: error: no stored trace has the id 'trc_later'; "
                                     "ingest it first, or --force to add the feedback all the same")
    assert len(records(cli)) == 3
    ok(cli, "feedback", "add", "trc_later", "--value", "4", "--force")
    assert [r["value"] for r in records(cli, "--trace", "trc_later")] == [4.0]
    result = cli("feedback", "add", "trc_", "--value", "4")  # a prefix of many: name them
    assert result.exit_code == 2 and "ambiguous" in result.stderr


def test_metadata_secrets_are_masked(cli: Invoke, sample_store: None) -> None:
    key = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0kLmN"
    ok(cli, "feedback", "add", CLAUDE, "--value", "1", "--meta", f"api_key={key}")
    stored = records(cli, "--trace", CLAUDE)[0]["metadata"]["api_key"]
    assert key not in stored and "REDACTED" in stored
