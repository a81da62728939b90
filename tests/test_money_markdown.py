"""Output for CI: money without float noise in every format (10 significant digits, CSV as plain
decimals), `show`/`replay`/tables as Markdown without Python reprs and with log text escaped,
and listings of nothing that say so on stderr while stdout stays a valid document."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REFERENCE_TRACE, SAMPLE_JSONL, Invoke, sample_rows
from tests.test_golden import GOLDEN

# Portkey logs cost in cents: these divide, and sum, into binary noise.
#   0.01275 / 100 = 0.00012749999999999998;  0.000022 / 100 = 2.1999999999999998e-07;
#   0.01 / 100 + 0.02 / 100 = 0.00030000000000000003
EXPECTED = {"money_a": 0.0001275, "money_b": 0.0003, "money_c": 2.2e-07}
PLAIN = {"money_a": "0.0001275", "money_b": "0.0003", "money_c": "0.00000022"}
NOISE = re.compile(r"\d{12,}")  # 0.00012749999999999998, 2.1999999999999998e-07
EXPONENT = re.compile(r"\de-?\d")


def portkey(trace: str, n: int, cents: float, **fields: Any) -> dict[str, Any]:
    """A Portkey export row of one chat call."""
    row = {"id": f"{trace}-{n}", "trace_id": trace, "span_id": f"{trace}-span-{n}",
           "created_at": f"2025-05-01T10:0{n}:00.000Z", "is_success": True, "response_time": 100,
           "ai_org": "openai", "ai_model": "gpt-4o-mini", "req_units": 10, "res_units": 2,
           "cost": cents, "metadata": {"env": "ci"}}
    return {**row, **fields}


@pytest.fixture
def money_store(cli: Invoke, tmp_path: Path) -> None:
    rows = [portkey("money_a", 1, 0.01275), portkey("money_b", 2, 0.01), portkey("money_b", 3, 0.02),
            portkey("money_c", 4, 0.000022)]
    log = tmp_path / "money.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert cli("ingest", str(log)).exit_code == 0


def out(cli: Invoke, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert not NOISE.search(result.stdout), (args, NOISE.search(result.stdout))
    if "csv" in args:  # plain decimals: a spreadsheet reads them as written
        assert not EXPONENT.search(result.stdout), (args, EXPONENT.search(result.stdout))
    return result.stdout


def test_traces_money_in_every_format(cli: Invoke, money_store: None) -> None:
    as_json = {r["trace_id"]: r["cost_usd"] for r in json.loads(out(cli, "traces", "-f", "json"))}
    assert as_json == EXPECTED
    lines = [json.loads(line) for line in out(cli, "traces", "-f", "jsonl").splitlines()]
    assert {r["trace_id"]: r["cost_usd"] for r in lines} == EXPECTED
    rows = list(csv.DictReader(io.StringIO(out(cli, "traces", "-f", "csv"))))
    assert {r["trace_id"]: r["cost_usd"] for r in rows} == PLAIN
    markdown = out(cli, "traces", "-f", "markdown")
    for shown in ("$0.000128", "$0.0003", "$0.00000022"):  # 0.0001275 rounds half up
        assert shown in markdown


def test_cost_money_in_every_format(cli: Invoke, money_store: None) -> None:
    doc = json.loads(out(cli, "cost", "--by", "trace", "-f", "json"))
    assert {r["group"]: r["cost_usd"] for r in doc["rows"]} == EXPECTED
    assert doc["total"]["cost_usd"] == 0.00042772  # 0.0001275 + 0.0003 + 0.00000022
    lines = [json.loads(line) for line in out(cli, "cost", "--by", "trace", "-f", "jsonl").splitlines()]
    assert {r["group"]: r["cost_usd"] for r in lines} == EXPECTED
    rows = list(csv.DictReader(io.StringIO(out(cli, "cost", "--by", "trace", "-f", "csv"))))
    assert {r["group"]: r["cost_usd"] for r in rows} == {**PLAIN, "TOTAL": "0.00042772"}
    assert "| TOTAL | 4 |" in out(cli, "cost", "--by", "trace", "-f", "markdown")


def test_spans_show_and_export_money(cli: Invoke, money_store: None) -> None:
    per_span = {"money_a-span-1": 0.0001275, "money_b-span-2": 0.0001, "money_b-span-3": 0.0002,
                "money_c-span-4": 2.2e-07}
    for fmt in ("json", "jsonl"):  # jsonl: written by DuckDB, a window of spans at a time
        text = out(cli, "spans", "-f", fmt)
        rows = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
        assert {r["span_id"]: r["cost_usd"] for r in rows} == per_span
    rows = list(csv.DictReader(io.StringIO(out(cli, "spans", "-f", "csv"))))  # DuckDB's too
    assert {r["span_id"]: r["cost_usd"] for r in rows}["money_c-span-4"] == "0.00000022"
    assert "$0.00000022" in out(cli, "spans", "-f", "markdown")
    tree = json.loads(out(cli, "show", "money_b", "-f", "json"))
    assert tree["trace"]["cost_usd"] == 0.0003
    assert [n["cost_usd"] for n in tree["spans"]] == [0.0001, 0.0002]
    assert json.loads(out(cli, "show", "money_a", "-f", "jsonl"))["trace"]["cost_usd"] == 0.0001275
    assert "0.00000022" in out(cli, "show", "money_c", "-f", "csv")
    exported = [json.loads(line) for line in out(cli, "export").splitlines()]
    assert {r["span_id"]: r["cost_usd"] for r in exported} == per_span


def test_show_markdown_is_the_tree_with_tools_results_and_answer(cli: Invoke, sample_store: None) -> None:
    text = out(cli, "show", REFERENCE_TRACE, "--format", "markdown")
    assert text == (GOLDEN / "show-reference.markdown.txt").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("**trace trc_7f3a2c91e4b0** · 2025-03-04 10:15:02 UTC · 3.76 s")
    assert "feedback +9.0 (1 vote)" in lines[0]
    calls = [line for line in lines if line.startswith("- #")]
    assert len(calls) == 4 and calls[0].startswith("- #1 chat gpt-4o-mini (agent-step-1)")
    tools = [line for line in lines if line.startswith("  - tool ")]  # nested under their calls
    assert tools == ["  - tool `exponentiate(base=3, exponent=5)` → `243`",
                     "  - tool `multiply(first_int=243, second_int=36)` → `8748`",
                     "  - tool `exponentiate(base=8748, exponent=2)` → `76527504`"]
    assert lines[-1] == ("- **answer:** The result of taking 3 to the fifth power, multiplying that "
                         "by thirty six, and then squaring the result is 76,527,504.")
    full = out(cli, "show", REFERENCE_TRACE, "--format", "markdown", "--full")
    assert full == (GOLDEN / "show-reference-full.markdown.txt").read_text()
    assert "  - user: Take 3 to the fifth power" in full and "  - tool: \\[call_ref1_xK3pQ9vL\\] 243" in full


def hostile_rows() -> list[dict[str, Any]]:
    """The reference run, its answer and first tool result holding Markdown and HTML, and a tag
    holding a pipe."""
    rows = [dict(r) for r in sample_rows() if r["trace_id"] == REFERENCE_TRACE]
    for r in rows:
        r["trace_id"], r["id"] = "trc_md", "md-" + r["id"]
        r["metadata"] = {**r["metadata"], "note": "a|b"}
    answer = rows[-1]["response"]["choices"][0]["message"]
    answer["content"] = "<img src=x onerror=alert(1)> *bold* [link](https://evil.example) | $1 and $2\nnext"
    for r in rows[1:]:
        for m in r["request"]["messages"]:
            if m.get("tool_call_id") == "call_ref1_xK3pQ9vL":
                m["content"] = "2`4`3"
    return rows


def test_markdown_escapes_log_text(cli: Invoke, tmp_path: Path) -> None:
    log = tmp_path / "md.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in hostile_rows()))
    assert cli("ingest", str(log)).exit_code == 0
    text = out(cli, "show", "trc_md", "-f", "markdown")
    assert ("- **answer:** \\<img src=x onerror=alert(1)\\> \\*bold\\* \\[link\\](https://evil.example) "
            "\\| \\$1 and \\$2 next") in text.splitlines()
    assert "  - tool `exponentiate(base=3, exponent=5)` → ``2`4`3``" in text.splitlines()
    table = out(cli, "traces", "-f", "markdown").splitlines()
    cells = re.split(r"(?<!\\)\|", table[2])[1:-1]  # a cell's pipe is escaped: 11 cells still
    assert len(cells) == 11 and cells[-1].strip() == "env=prod feature=math-agent note=a\\|b"


def test_replay_markdown_has_no_python_reprs(cli: Invoke, sample_store: None) -> None:
    text = out(cli, "replay", REFERENCE_TRACE, "--speed", "0", "-f", "markdown")
    assert "{'" not in text and "'label'" not in text and "[{" not in text
    assert "| system: You are a helpful assistant · user: Take 3 to the fifth power" in text
    assert "| tool call: exponentiate(base=3, exponent=5) |" in text
    assert "| result: 76527504 |" in text


def test_feedback_reads_the_same_in_tables_and_show(cli: Invoke, sample_store: None) -> None:
    table = out(cli, "traces", "-f", "markdown")
    assert "| +9.0 (1 vote) |" in table and "| -4.0 (1 vote) |" in table and "9.00" not in table
    assert "+9.0 (1 vote)" in out(cli, "traces") and "feedback +9.0 (1 vote)" in out(cli, "show", REFERENCE_TRACE)
    rows = {r["trace_id"]: r for r in json.loads(out(cli, "traces", "-f", "json"))}
    assert (rows[REFERENCE_TRACE]["feedback_score"], rows[REFERENCE_TRACE]["feedback_count"]) == (9.0, 1)


def test_no_input_says_so_and_stays_a_document(cli: Invoke) -> None:
    result = cli("traces", "--from", "-", "--format", "json", input="")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert result.stderr.splitlines() == ["no input records read from -", "no traces match"]


def test_listings_of_nothing_say_so(cli: Invoke, sample_store: None) -> None:
    result = cli("cost", "--since", "7d", "--format", "json")  # the samples are from 2025-03
    assert result.exit_code == 0 and result.stderr.strip() == "no calls match"
    doc = json.loads(result.stdout)
    assert doc["rows"] == [] and doc["total"]["calls"] == 0
    result = cli("traces", "--since", "7d", "--format", "csv")
    assert result.exit_code == 0 and result.stderr.strip() == "no traces match"
    assert result.stdout.startswith("trace_id,start_time,") and len(result.stdout.splitlines()) == 1
    result = cli("spans", "--since", "7d", "--format", "jsonl")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr.strip() == "no spans match"
    result = cli("traces", "--from", str(SAMPLE_JSONL), "--since", "7d", "--format", "markdown")
    assert result.exit_code == 0 and result.stderr.strip() == "no traces match"
    assert result.stdout.splitlines()[1].startswith("| ---")
