"""Terminal safety, round 2: C1 controls, DEL, bidi and zero-width marks in log content, and
user-given text, never reach a terminal raw, and a one-line field never forges a second line;
piped machine output keeps every character exactly."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REFERENCE_TRACE, StoreCache, Stored, reply_json, sample_rows, serving
from tracecli.cli.main import app
from tracecli.environment import Environment
from tracecli.render.text import markdown

# C1 CSI, OSC and ST, DEL, NEL, the bidi marks, embeddings, overrides and isolates, zero-width
# spaces and joiners, the byte-order mark, and the line and paragraph separators.
NASTY = ("\x9b2J\x9d0;title\x9c\x7f\x85\u202e\u202a\u2066\u2069\u061c\u200b\u200c\u200d\u200e"
         "\u200f\ufeff\u2028\u2029")
# Single-line fields, each broken by a different line break: none may start a line of its own.
TRACE = f"trc_safe\nforged-id{NASTY}"
MODEL = f"gpt-4o-mini\rforged-model{NASTY}"
TAG_KEY = "env\u2028forged-key"
TAG_VALUE = f"prod\x85forged-value{NASTY}"
SPAN_NAME = f"agent-step-1\nforged-name{NASTY}"
# Nothing a terminal would act on or hide, other than tab and newline.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # tracecli's own colours
FORGED = re.compile(r"^[\s│├└─]*forged", re.M)


def hostile_rows() -> list[dict[str, Any]]:
    """The reference run with the characters in its id, model, tags, name, content and tool
    arguments."""
    rows = [dict(r, trace_id=TRACE, ai_model=MODEL) for r in sample_rows()
            if r["trace_id"] == REFERENCE_TRACE]
    first, last = rows[0], rows[-1]
    first["metadata"] = {TAG_KEY: TAG_VALUE, "feature": f"math{NASTY}"}
    first["span_name"] = SPAN_NAME
    first["request"]["messages"][1]["content"] = f"question {NASTY}"
    function = first["response"]["choices"][0]["message"]["tool_calls"][0]["function"]
    function["arguments"] = json.dumps({"base": 3, "exponent": 5, "note": NASTY})
    rows[1]["request"]["messages"][2]["tool_calls"][0]["function"]["arguments"] = function["arguments"]
    rows[1]["request"]["messages"][3]["content"] = f"243 {NASTY}"
    last["response"]["choices"][0]["message"]["content"] = f"answer {NASTY}"
    return rows


@pytest.fixture
def hostile_store(store_cache: StoreCache, stored: Stored) -> None:
    stored(str(store_cache.file("terminal-safety.jsonl", hostile_rows())))


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run(*args: str, tty: bool = True) -> Run:
    """tracecli on a colour terminal (or piped, tty=False): what reached each stream."""
    stream = FakeTTY if tty else io.StringIO
    out, err = stream(), stream()
    env = Environment.of(io.StringIO(), out, err, {"COLUMNS": "1000", "TERM": "xterm-256color"})
    result = CliRunner().invoke(app, list(args), obj=env, catch_exceptions=False)
    return Run(result.exit_code, out.getvalue() + result.stdout, err.getvalue() + result.stderr)


def assert_harmless(r: Run, *, csv: bool = False) -> None:
    """No raw character from FORBIDDEN, and no line begun by a one-line field (a CSV field
    quotes its line breaks instead: it stays a CSV document)."""
    for text in (SGR.sub("", r.stdout), r.stderr):
        assert not FORBIDDEN.findall(text), FORBIDDEN.findall(text)
        assert csv or not FORGED.search(text), text
    assert "Traceback" not in r.stderr


def parsed(text: str, fmt: str) -> Any:
    return [json.loads(line) for line in text.rstrip("\n").split("\n")] if fmt == "jsonl" else json.loads(text)


VIEWS = [["traces"], ["show", "trc_safe"], ["show", "trc_safe", "--full"], ["cost"],
         ["cost", "--by", "tag"], ["cost", "--by", f"tag:{TAG_KEY}"], ["cost", "--by", "trace"],
         ["replay", "trc_safe", "--speed", "0"], ["spans"], ["spans", "--trace", "trc_safe"]]
FORMATS = ["table", "json", "jsonl", "csv", "markdown"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("args", VIEWS, ids=" ".join)
def test_terminal_gets_nothing_raw_and_pipes_get_everything(hostile_store: None, args: list[str],
                                                            fmt: str) -> None:
    terminal, piped = run(*args, "--format", fmt), run(*args, "--format", fmt, tty=False)
    assert terminal.code == piped.code == 0, terminal.stderr + piped.stderr
    assert_harmless(terminal, csv=fmt == "csv")
    if fmt in ("json", "jsonl"):
        assert parsed(terminal.stdout, fmt) == parsed(piped.stdout, fmt)  # the same values
        assert "\\u009b2J\\u009d0;title\\u009c\\u007f\\u0085\\u202e" in terminal.stdout
    if fmt in ("json", "jsonl", "csv"):
        assert NASTY in piped.stdout  # exactly, for the program reading the pipe
    if fmt == "markdown":
        assert_harmless(piped)  # a human format wherever it goes


def test_terminal_json_parses_to_the_logged_values(hostile_store: None) -> None:
    trace = parsed(run("traces", "--format", "json").stdout, "json")[0]
    assert trace["trace_id"] == TRACE and trace["models"] == [MODEL]
    assert trace["tags"][TAG_KEY] == TAG_VALUE and trace["tags"]["feature"] == f"math{NASTY}"
    tree = parsed(run("show", "trc_safe", "--format", "json").stdout, "json")
    assert tree["answer"] == f"answer {NASTY}" and tree["spans"][0]["name"] == SPAN_NAME
    assert tree["spans"][0]["tool_calls"][0]["arguments"]["note"] == NASTY


def test_one_line_fields_stay_on_one_line(hostile_store: None) -> None:
    header = run("show", "trc_safe").stdout.splitlines()[0]
    assert SGR.sub("", header).startswith("trace trc_safe forged-id\\x9b2J\\x9d0;title")
    assert "LLM calls" in header and "env\\u2028forged-key=prod\\x85forged-value\\x9b2J" in header
    plain = SGR.sub("", run("show", "trc_safe").stdout)
    assert "chat gpt-4o-mini\\x0dforged-model\\x9b2J" in plain and "(agent-step-1 forged-name" in plain
    assert len(run("traces").stdout.splitlines()) == 2  # header and one trace
    assert len(run("spans").stdout.splitlines()) == 5  # header and four spans
    replay = SGR.sub("", run("replay", "trc_safe", "--speed", "0").stdout)
    assert "call #1 → gpt-4o-mini\\x0dforged-model\\x9b2J" in replay


class HostileModel(BaseHTTPRequestHandler):
    """A live endpoint whose answers carry the characters too."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        message = {"role": "assistant", "content": f"live {NASTY}", "tool_calls": [
            {"id": "call_live", "type": "function",
             "function": {"name": f"tool{NASTY}", "arguments": json.dumps({"x": NASTY})}}]}
        reply_json(self, {"choices": [{"index": 0, "message": message}],
                          "usage": {"prompt_tokens": 1, "completion_tokens": 1}})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    with serving(HostileModel) as url:
        yield url


@pytest.mark.parametrize("fmt", FORMATS)
def test_replay_endpoint_content(hostile_store: None, endpoint: str, fmt: str) -> None:
    args = ("replay", "trc_safe", "--endpoint", endpoint, "--each-call", "--format", fmt)
    terminal, piped = run(*args), run(*args, tty=False)
    assert terminal.code == piped.code == 0, terminal.stderr + piped.stderr
    assert_harmless(terminal, csv=fmt == "csv")
    if fmt in ("json", "jsonl"):
        calls, exact = parsed(terminal.stdout, fmt), parsed(piped.stdout, fmt)
        assert [c["recorded"] for c in calls] == [c["recorded"] for c in exact]
        assert calls[0]["live"]["text"] == f"live {NASTY}"
        assert calls[0]["live"]["tools"][0].startswith(f"tool{NASTY}(")
        assert NASTY in piped.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_replay_run_content(hostile_store: None, endpoint: str, fmt: str) -> None:
    args = ("replay", "trc_safe", "--endpoint", endpoint, "--no-store", "--format", fmt)
    terminal, piped = run(*args), run(*args, tty=False)
    assert terminal.code == piped.code == 1, terminal.stderr + piped.stderr  # another tool: diverged
    assert_harmless(terminal, csv=fmt == "csv")
    if fmt == "json":
        doc = json.loads(piped.stdout)
        assert doc["steps"][0]["replayed"]["calls"][0].startswith(f"tool{NASTY}(")


LINK = "tag:[link=https://evil.example]env[/link]"


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "piped"])
def test_group_by_header_is_text_not_markup(hostile_store: None, tty: bool) -> None:
    for fmt in ("table", "markdown"):
        shown = markdown if fmt == "markdown" else str  # Markdown's own characters escaped
        r = run("cost", "--by", LINK, "--format", fmt, tty=tty)
        assert r.code == 0, r.stderr
        assert "\x1b]8" not in r.stdout and shown(LINK) in r.stdout
        r = run("cost", "--by", "tag:\x1b]0;T\x07\u202e\nforged", "--format", fmt, tty=tty)
        assert r.code == 0, r.stderr
        assert_harmless(Run(r.code, SGR.sub("", r.stdout), r.stderr))
        assert shown("tag:␛]0;T\\x07\\u202e forged") in r.stdout
    by = "tag:\x1b]0;T\x07\u202e"
    assert json.loads(run("cost", "--by", by, "--format", "json", tty=tty).stdout)["by"] == by


def test_typed_ids_option_values_and_file_names_in_messages(hostile_store: None, tmp_path: Path) -> None:
    bad = tmp_path / f"bad{NASTY}\nforged.jsonl"
    bad.write_text('{"id": 1}\nnot json\n')
    rejects = tmp_path / f"rejects{NASTY}\nforged.jsonl"
    for args, code in ((["show", f"nope\u200b\nforged{NASTY}"], 4),
                       (["spans", "--trace", f"[/]{NASTY}"], 4),
                       (["cost", "--by", f"bogus[/]\nforged{NASTY}"], 2),
                       (["traces", "--since", f"x[b]\nforged{NASTY}"], 2),
                       (["ingest", "--db", str(tmp_path / "x.duckdb"), "--quiet", str(bad)], 3)):
        r = run(*args)
        assert r.code == code, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr
        assert_harmless(r)
        assert "\\u200b" in r.stderr or "\\u202e" in r.stderr
    r = run("ingest", "--db", str(tmp_path / "y.duckdb"), "--quiet", "--skip-bad", "--rejects",
            str(rejects), str(bad))
    assert r.code == 0, r.stderr
    assert_harmless(r)
    assert "rejects\\x9b2J" in r.stderr and "bad\\x9b2J" in r.stderr
