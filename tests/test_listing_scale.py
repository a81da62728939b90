"""Listings at any size: streamed spans are the listing itself, cut or whole, in windows of any
size; tables are measured from the data and look as Rich drew them; a terminal pages a long
table and never loses a column when narrow; a pipe is never paged or cut; large groupings can
be cut to their costliest groups, saying how many were left out. Nothing here is timed."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from tests.conftest import SAMPLE_JSONL, Invoke, Stored
from tracecli.cli.main import app
from tracecli.environment import Environment
from tracecli.read import listing
from tracecli.read.filters import Filters
from tracecli.render import columns, console, output
from tracecli.render.text import one_line
from tracecli.store.connection import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
# a fixture of every kind of source: 125 spans of many shapes
EVERY_FORMAT = [str(FIXTURES / p) for p in (
    "otlp/genai_traces.jsonl", "otlp/split", "openinference/langchain_traces.jsonl",
    "openinference/phoenix_spans.parquet", "litellm/payloads.jsonl", "litellm/s3",
    "langsmith/runs.jsonl", "langfuse/trace_download.json", "langfuse/observations.jsonl")]


def odd_spans() -> list[dict[str, Any]]:
    """tracecli span lines that test the listing order: a dozen spans at one time across two
    traces, spans with no time at all, text a CSV must quote, and numbers whose shortest text
    differs from their plain decimals."""
    names = ["a,b", 'say "hi"', "two\nlines", "tab\there", "é ✓ 漢字", "plain"]
    costs = [5.1450000000000004e-05, 1e16, 0.1 + 0.2, 690.0, None, 2.2e-07]
    spans = []
    for i in range(30):
        same_time = i < 12
        spans.append({
            "record_key": f"odd:{i}", "trace_id": f"trc_odd_{i % 2 if same_time else i % 5}",
            "span_id": f"span-{i:02d}", "source_format": "tracecli", "kind": "llm",
            "name": names[i % len(names)], "model": "gpt-4o-mini", "status": "ok",
            "start_time": None if i >= 24 else "2025-03-04T10:15:02.123Z" if same_time
            else f"2025-03-04T11:{i:02d}:00.000456Z",
            "duration_ms": 100.0 + i, "total_tokens": 10 * i, "cost_usd": costs[i % len(costs)],
        })
    return spans


@pytest.fixture
def odd_store(stored: Stored, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.getbasetemp() / "odd_spans.jsonl"
    if not path.exists():
        path.write_text("".join(json.dumps(s) + "\n" for s in odd_spans()))
    stored(str(path), str(SAMPLE_JSONL))


def ok(cli: Invoke, *args: str) -> tuple[str, str]:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout, result.stderr


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streams in windows of 5 spans, 2 at a time: every boundary case on a few spans."""
    monkeypatch.setattr(listing, "WINDOW", 5)
    monkeypatch.setattr(listing, "STEP", 2)


# --- streamed spans ------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_streamed_spans_equal_one_sorted_query(cli: Invoke, odd_store: None, fmt: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _ = ok(cli, "spans", "--format", fmt, "--limit", "0")  # one window: one ORDER BY
    monkeypatch.setattr(listing, "WINDOW", 5)
    monkeypatch.setattr(listing, "STEP", 2)
    assert ok(cli, "spans", "--format", fmt, "--limit", "0")[0] == whole
    monkeypatch.setattr(listing, "STEP", 5)
    assert ok(cli, "spans", "--format", fmt, "--limit", "0")[0] == whole


def test_spans_without_a_time_come_last_and_ties_keep_one_order(cli: Invoke, odd_store: None,
                                                                small_windows: None) -> None:
    rows = [json.loads(line) for line in ok(cli, "spans", "--format", "jsonl", "--limit", "0")[0].splitlines()]
    assert len(rows) == 45 and len({r["record_key"] for r in rows}) == 45
    times = [r["start_time"] for r in rows]
    assert times[-6:] == [None] * 6 and None not in times[:-6]
    assert times[:-6] == sorted(times[:-6])
    tied = [(r["trace_id"], r["span_id"]) for r in rows if r["start_time"] == "2025-03-04T10:15:02.123Z"
            and r["record_key"].startswith("odd:")]
    assert len(tied) == 12 and tied == sorted(tied)
    assert "2025-03-04T11:12:00.000456Z" in times  # microseconds kept, as export writes them


@pytest.mark.parametrize("n", [1, 2, 4, 5, 6, 11, 44, 45, 46])
def test_a_cut_listing_is_the_head_of_the_whole_one(cli: Invoke, odd_store: None,
                                                    small_windows: None, n: int) -> None:
    whole = ok(cli, "spans", "--format", "jsonl", "--limit", "0")[0].splitlines(keepends=True)
    head, note = ok(cli, "spans", "--format", "jsonl", "--limit", str(n))
    assert head == "".join(whole[:n])
    assert (note.strip() == f"showing {n} of 45 spans; use --limit 0 for all") is (n < 45)
    if n >= 45:
        assert note == ""
    csv_head = ok(cli, "spans", "--format", "csv", "--limit", str(n))[0]
    assert len(list(csv.reader(io.StringIO(csv_head)))) == min(n, 45) + 1


def test_streamed_lines_are_the_export_s_and_the_json_listing_s(cli: Invoke, stored: Stored,
                                                                small_windows: None) -> None:
    stored(*EVERY_FORMAT)
    lines = ok(cli, "spans", "--format", "jsonl", "--limit", "0")[0].splitlines()
    exported = [line for line in ok(cli, "export")[0].splitlines() if '"span_id"' in line
                and '"kind":"content"' not in line]
    assert sorted(lines) == sorted(exported) and len(lines) == 125  # byte for byte
    listed = json.loads(ok(cli, "spans", "--format", "json", "--limit", "0")[0])
    assert [json.loads(line) for line in lines] == listed  # fixture times are whole milliseconds


def test_streamed_csv_is_what_the_csv_writer_writes(cli: Invoke, odd_store: None,
                                                    small_windows: None, isolated_store: Path) -> None:
    streamed = ok(cli, "spans", "--format", "csv", "--limit", "0")[0]
    con = open_store(str(isolated_store), read_only=True)
    try:
        rows, _ = listing.list_spans(con, Filters(), None, 0, tuple(c.key for c in columns.SPANS))
    finally:
        con.close()
    out = io.StringIO()
    output.emit(rows, columns.SPANS, output.OutputFormat.csv,
                env=Environment.of(io.StringIO(), out, io.StringIO(), {}))
    assert streamed == out.getvalue()
    assert '"two\nlines"' in streamed and '"say ""hi"""' in streamed and ",0.00005145," in streamed


def test_spans_list_twenty_by_default_and_say_so(cli: Invoke, stored: Stored) -> None:
    stored(*EVERY_FORMAT)
    for fmt in ("table", "json", "jsonl", "csv", "markdown"):
        out, note = ok(cli, "spans", "--format", fmt)
        assert note.strip() == "showing 20 of 125 spans; use --limit 0 for all", fmt
    assert len(ok(cli, "spans", "--format", "jsonl")[0].splitlines()) == 20
    out, note = ok(cli, "spans", "--limit", "0")
    assert note == "" and len(out.splitlines()) == 126


# --- tables ----------------------------------------------------------------------------------

def rich_table(rows: list[dict[str, Any]], cols: list[output.Column],
               footer: dict[str, Any] | None) -> str:
    """How tracecli drew a table with Rich before (its Table, as render.output built it)."""
    heads = [one_line(c.header) for c in cols]
    body = [[one_line(output.cell(row.get(c.key), c.kind)) for c in cols] for row in rows]
    feet = [one_line(output.cell(footer.get(c.key), c.kind)) for c in cols] if footer else []
    table = Table(show_footer=footer is not None, header_style="bold", box=None, pad_edge=False)
    for i, c in enumerate(cols):
        natural = max([Text(heads[i]).cell_len, *(Text(r[i]).cell_len for r in body),
                       *(Text(f).cell_len for f in feet[i:i + 1])])
        table.add_column(Text(heads[i]), justify="right" if c.kind in ("int", "cost", "ms", "float") else "left",
                         footer=Text(feet[i], style="bold") if footer else "",
                         overflow="ellipsis", no_wrap=True,
                         min_width=min(natural, 8) if c.width else natural, max_width=c.width or None)
    for cells in body:
        table.add_row(*(Text(v) for v in cells))
    out = io.StringIO()
    Console(file=out, width=1000, color_system=None, highlight=False, emoji=False).print(table)
    return out.getvalue()


WORDS = st.text(st.sampled_from("ab Zé漢✓🙂-_=,"), max_size=40)
ROWS = st.lists(st.fixed_dictionaries({
    "name": WORDS, "tags": st.dictionaries(WORDS, WORDS, max_size=3),
    "models": st.lists(WORDS, max_size=3), "n": st.none() | st.integers(-10**12, 10**12),
    "usd": st.none() | st.floats(0, 1e6), "ms": st.floats(0, 1e7)}), max_size=8)
COLUMNS = [output.Column("name", "naam 漢", "text"), output.Column("n", "count", "int"),
           output.Column("models", "models", "list", width=12), output.Column("usd", "cost", "cost"),
           output.Column("ms", "took", "ms"), output.Column("tags", "tags", "map", width=9)]


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, total=st.booleans())
def test_tables_look_as_rich_drew_them(rows: list[dict[str, Any]], total: bool) -> None:
    footer = {"name": "TOTAL", "n": sum(r["n"] or 0 for r in rows)} if total else None
    assert output.table(rows, COLUMNS, footer, console.Screen()) == rich_table(rows, COLUMNS, footer)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def on(*args: str, tty: bool, **environ: str) -> Run:
    """tracecli with stdout a terminal (one a pager cannot write to) or a pipe."""
    out, err = (FakeTTY() if tty else io.StringIO()), io.StringIO()
    env = Environment.of(io.StringIO(), out, err, {"TERM": "xterm-256color", "NO_COLOR": "1", **environ})
    result = CliRunner().invoke(app, list(args), obj=env, catch_exceptions=False)
    return Run(result.exit_code, out.getvalue(), err.getvalue())


def test_a_narrow_terminal_shows_every_column_of_every_trace(sample_store: None) -> None:
    narrow = on("traces", "--limit", "0", tty=True, COLUMNS="80")
    assert narrow.code == 0 and narrow.stderr == ""
    blocks = narrow.stdout.rstrip("\n").split("\n\n")
    assert len(blocks) == 8
    labels = [c.header for c in columns.TRACES]
    for block in blocks:
        lines = block.split("\n")
        assert [line[:11].rstrip() for line in lines] == labels
        assert max(len(line) for line in lines) <= 80 and "…" not in block
    assert "tags         env=staging feature=support-rag" in narrow.stdout  # whole
    assert "models       gpt-4o, text-embedding-3-small" in narrow.stdout


def test_a_terminal_a_little_narrow_cuts_only_what_may_be_cut(sample_store: None) -> None:
    wide = on("traces", "--limit", "0", tty=True, COLUMNS="150").stdout.splitlines()
    assert all(len(line) <= 150 for line in wide) and len(wide) == 9
    assert wide[0].split() == ["trace", "start", "(UTC)", "duration", "LLM", "tools", "models",
                               "tokens", "cost", "status", "feedback", "tags"]
    assert "trc_7f3a2c91e4b0  2025-03-04 10:15:02    3.76 s    4      3  gpt-4o-mini" in wide[-1]


def test_cost_on_a_narrow_terminal_keeps_headers_and_values(sample_store: None) -> None:
    narrow = on("cost", "--by", "tag", tty=True, COLUMNS="80").stdout
    assert "cost (USD)  $0.00218" in narrow and "unpriced    0" in narrow
    assert narrow.rstrip("\n").split("\n\n")[-1].startswith("tag         TOTAL")


@pytest.mark.parametrize("args", [["traces", "--limit", "0"], ["cost", "--by", "tag"],
                                  ["spans"], ["show", "trc_7f3a2c91e4b0", "--full"]], ids=" ".join)
def test_a_pipe_is_never_cut_whatever_columns_says(sample_store: None, args: list[str]) -> None:
    piped, narrow = on(*args, tty=False), on(*args, tty=False, COLUMNS="80")
    assert piped.code == narrow.code == 0
    assert narrow.stdout == piped.stdout and max(map(len, piped.stdout.splitlines())) > 80


def test_piped_output_ignores_columns() -> None:
    env = Environment.of(io.StringIO(), io.StringIO(), io.StringIO(), {"COLUMNS": "80"})
    assert env.stdout_width == 1000 and console.screen(env) == console.Screen()
    tty = Environment.of(io.StringIO(), FakeTTY(), io.StringIO(), {"COLUMNS": "80", "LINES": "30"})
    assert tty.stdout_width is None and console.screen(tty) == console.Screen(80, 30, True)


# --- the pager -------------------------------------------------------------------------------

@pytest.mark.parametrize(("environ", "tty", "pager"), [
    ({}, True, "less -R"), ({"PAGER": "most -s"}, True, "most -s"), ({"PAGER": ""}, True, None),
    ({"PAGER": "cat"}, True, None), ({}, False, None), ({"PAGER": "most"}, False, None)])
def test_which_pager(environ: dict[str, str], tty: bool, pager: str | None) -> None:
    env = Environment.of(io.StringIO(), FakeTTY() if tty else io.StringIO(), io.StringIO(), environ)
    assert env.pager == pager
    assert {"LESS": "FRX", "LV": "-c"}.items() <= env.pager_environ.items()
    assert Environment.of(io.StringIO(), io.StringIO(), io.StringIO(),
                          {"LESS": "-S"}).pager_environ["LESS"] == "-S"  # the user's own


@dataclass
class Terminal:
    """A real pseudo-terminal as stdout, and a pager that keeps what it was given."""

    env: Environment
    master: int
    kept: Path

    def shown(self) -> str:
        """What reached the terminal itself."""
        text = b""
        while select.select([self.master], [], [], 0.2)[0]:
            text += os.read(self.master, 65536)
        return text.decode().replace("\r\n", "\n")

    def paged(self) -> dict[str, str] | None:
        return json.loads(self.kept.read_text()) if self.kept.exists() else None


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Any]:
    kept = tmp_path / "paged.json"
    script = tmp_path / "pager.py"
    script.write_text("import json, os, sys\n"
                      f"json.dump({{'text': sys.stdin.read(), 'LESS': os.environ.get('LESS')}}, open({str(kept)!r}, 'w'))\n")
    opened: list[Any] = []

    def make(lines: int, **environ: str) -> Terminal:
        master, slave = pty.openpty()
        stdout = open(slave, "w", encoding="utf-8")  # closed below
        opened.append((master, stdout))
        variables = {"TERM": "xterm-256color", "COLUMNS": "200", "LINES": str(lines),
                     "PATH": os.environ["PATH"],
                     "PAGER": f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}", **environ}
        return Terminal(Environment.of(io.StringIO(), stdout, io.StringIO(), variables), master, kept)

    yield make
    for master, stdout in opened:
        stdout.close()
        os.close(master)


def invoke(term: Terminal, *args: str) -> None:
    result = CliRunner().invoke(app, list(args), obj=term.env, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_a_table_longer_than_the_terminal_goes_through_the_pager(sample_store: None, terminal: Any) -> None:
    term = terminal(5)
    invoke(term, "traces", "--limit", "0")
    paged = term.paged()
    assert paged is not None and paged["LESS"] == "FRX"
    assert paged["text"].count("\n") == 9 and "trc_7f3a2c91e4b0" in paged["text"]
    assert paged["text"].startswith("\x1b[1mtrace")  # bold header: colour, as on the terminal
    assert "trc_7f3a2c91e4b0" not in term.shown()


def test_no_pager_a_short_table_or_no_colour(sample_store: None, terminal: Any) -> None:
    term = terminal(5)
    invoke(term, "traces", "--limit", "0", "--no-pager")
    assert term.paged() is None and "trc_7f3a2c91e4b0" in term.shown()
    term = terminal(50)
    invoke(term, "cost", "--by", "tag")
    assert term.paged() is None and "feature=support-rag" in term.shown()
    term = terminal(5, NO_COLOR="1")
    invoke(term, "spans", "--limit", "0")
    paged = term.paged()
    assert paged is not None and "\x1b" not in paged["text"] and paged["text"].count("\n") == 16


def test_a_pager_that_is_not_there_is_not_missed(sample_store: None, terminal: Any) -> None:
    term = terminal(5, PAGER="no-such-pager-anywhere -R")
    invoke(term, "traces", "--limit", "0")
    assert term.paged() is None and "trc_7f3a2c91e4b0" in term.shown()


# --- large groupings -------------------------------------------------------------------------

def test_cost_top_keeps_the_costliest_groups_and_the_whole_total(cli: Invoke, sample_store: None) -> None:
    every = json.loads(ok(cli, "cost", "--by", "tag", "--format", "json")[0])
    for option in ("--top", "--limit", "-n"):
        out, note = ok(cli, "cost", "--by", "tag", option, "3", "--format", "json")
        doc = json.loads(out)
        assert doc["rows"] == every["rows"][:3] and doc["total"] == every["total"]
        assert note.strip() == ("showing the top 3 of 14 groups by cost: 11 left out, counted in "
                                "the total; --top 0 for all")
    table, _ = ok(cli, "cost", "--by", "tag", "--top", "2")
    assert [line.split()[0] for line in table.splitlines()] == ["tag", "env=dev", "feature=summaries", "TOTAL"]
    assert ok(cli, "cost", "--by", "tag", "--top", "0")[1] == ""
    assert ok(cli, "cost", "--by", "model", "--top", "99")[1] == ""
    assert cli("cost", "--top", "-1").exit_code == 2
