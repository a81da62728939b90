"""Log content is data, not markup: escape sequences print harmlessly, Rich markup literally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, StoreCache, Stored, sample_rows

OSC_CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
CLEAR = "\x1b[2J\x1b[H"
HOSTILE = (f"{OSC_CLIPBOARD}{CLEAR}\x1b[31mred\x1b[0m \x9b2J \x07bell \rback \x00nul "
           "\u202eevil\u202c [bold red]not bold[/] [/] [link=http://x]y[/link] [[x]] \\[z]")
# what must never reach the terminal: ESC, C1 CSI/OSC, BEL, CR, NUL, bidi overrides
FORBIDDEN = ["\x1b", "\x9b", "\x9d", "\x07", "\r", "\x00", "\u202e"]
TRACE = "trc_[red]\x1b[2Jhostile"
TRACE_ERR = "err_[/]\x1b[31m"


def hostile_rows() -> list[dict[str, Any]]:
    rows = [dict(r, trace_id=TRACE) for r in sample_rows() if r["trace_id"] == "trc_7f3a2c91e4b0"]
    first, last = rows[0], rows[-1]
    first["request"]["messages"][1]["content"] = f"question {HOSTILE}"
    first["metadata"] = {"env": f"prod {HOSTILE}", f"[b]key{CLEAR}": "v[/]"}
    first["span_name"] = f"step {HOSTILE}"
    call = first["response"]["choices"][0]["message"]["tool_calls"][0]["function"]
    call["name"] = f"exponentiate{CLEAR}[/]"
    rows[1]["request"]["messages"][3]["content"] = f"243 {HOSTILE}"
    last["response"]["choices"][0]["message"]["content"] = f"answer {HOSTILE}"
    last["ai_model"] = f"gpt-4o-mini{CLEAR}[/]"
    failed = dict(sample_rows()[-1], id="hostile-error", trace_id=TRACE_ERR, is_success=False,
                  response_status_code=500, response={"error": {"message": f"boom {HOSTILE}"}})
    return [*rows, failed]


@pytest.fixture
def hostile_store(store_cache: StoreCache, stored: Stored) -> None:
    stored(str(store_cache.file("hostile.jsonl", hostile_rows())))


TERMINAL_VIEWS = [
    ["traces"], ["traces", "--format", "markdown"], ["traces", "--search", "[bold red]"],
    ["show", "trc_[red]"], ["show", "trc_[red]", "--full"], ["show", "trc_[red]", "--full", "--all-spans"],
    ["show", "err_[/]", "--full"], ["show", "trc_[red]", "--format", "markdown"],
    ["spans"], ["spans", "--format", "markdown"], ["cost"], ["cost", "--by", "tag"],
    ["cost", "--by", "trace"], ["replay", "trc_[red]", "--speed", "0"],
]


@pytest.mark.parametrize("args", TERMINAL_VIEWS, ids=" ".join)
def test_terminal_views_print_content_harmlessly(cli: Invoke, hostile_store: None, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    for char in FORBIDDEN:
        assert char not in result.output, (char, args)
    assert "Traceback" not in result.output


def test_markup_in_content_prints_literally(cli: Invoke, hostile_store: None) -> None:
    out = cli("show", "trc_[red]", "--full").stdout
    assert "[bold red]not bold[/]" in out and "[link=http://x]y[/link]" in out and "[[x]]" in out
    assert "␛]52;c;ZWNobyBwd25lZA==" in out  # shown, not executed
    assert "answer " in out and "question " in out
    replay = cli("replay", "trc_[red]", "--speed", "0").stdout
    assert "[bold red]not bold[/]" in replay


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_machine_formats_keep_content_exactly(cli: Invoke, hostile_store: None, fmt: str) -> None:
    """JSON escapes control characters itself, so the data survives unchanged and still
    cannot drive the terminal."""
    result = cli("spans", "--format", fmt)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    rows = ([json.loads(line) for line in result.stdout.splitlines()] if fmt == "jsonl"
            else json.loads(result.stdout))
    contents = json.dumps(rows)
    assert json.dumps(HOSTILE)[1:-1] in contents


def test_hostile_file_names_and_ids_in_messages(cli: Invoke, hostile_store: None, tmp_path: Path) -> None:
    for args in (["show", "[bold]\x1b[2Jnope"], ["ingest", str(tmp_path / "x[/]\x1b]52;c;AA\x07.jsonl")],
                 ["spans", "--trace", "[/]\x1b[31m"]):
        result = cli(*args)
        assert result.exit_code in (3, 4), result.output
        assert result.stderr.count("\n") == 1
        for char in FORBIDDEN:
            assert char not in result.stderr
        assert "[/]" in result.stderr or "[bold]" in result.stderr
