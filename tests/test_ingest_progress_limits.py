"""Ingest progress that moves within a file, and inputs past the line limit refused in bounded
memory: a JSONL line longer than the limit, and a gzip that expands to one such line, are named
(file:line) by a streaming pass, never read whole, and leave the store as it was."""

from __future__ import annotations

import gzip
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import SAMPLE_JSONL, SAMPLE_PARQUET, Invoke, sample_rows
from tracecli import environment
from tracecli.errors import BadInput, ExitCode
from tracecli.ingest import inputs, pipeline, salvage

LIMIT = 20 << 20  # the line limit the refusal tests set (DuckDB's least allowance is 16 MiB)


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int] | None]:
    """Every progress report the CLI's ingest makes, as (file, bytes done, bytes in all); None
    when the CLI passed no callback."""
    calls: list[tuple[str, int, int] | None] = []
    run = pipeline.ingest

    def ingest(*args: Any, progress: pipeline.Progress | None = None, **kwargs: Any) -> Any:
        if progress is None:
            calls.append(None)
            return run(*args, progress=None, **kwargs)

        def record(source: inputs.Source, done: int, total: int) -> None:
            calls.append((source.label, done, total))
            progress(source, done, total)
        return run(*args, progress=record, **kwargs)

    monkeypatch.setattr(pipeline, "ingest", ingest)
    return calls


def _many_rows(path: Path, n: int) -> Path:
    rows = sample_rows()
    with gzip.open(path, "wt") as fh:
        for i in range(n):
            fh.write(json.dumps({**rows[i % len(rows)], "id": f"p-{i}", "trace_id": f"t-{i // 4}"}) + "\n")
    return path


@pytest.mark.skipif(pipeline._bytes_read() is None, reason="the system does not count bytes read")
def test_the_bar_moves_within_one_file(cli: Invoke, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, one file's progress is reported while DuckDB reads it, not only before."""
    path = _many_rows(tmp_path / "many.jsonl.gz", 6000)
    size = path.stat().st_size
    monkeypatch.setattr(environment, "_isatty", lambda stream: True)
    monkeypatch.setattr(pipeline, "TICK_SECONDS", 0.002)
    calls = _recording(monkeypatch)
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    assert "added 6,000 spans" in result.stderr
    reports = [c for c in calls if c is not None]
    assert reports and all(c[0] == str(path) and c[2] == size for c in reports)
    done = [c[1] for c in reports]
    assert done == sorted(done)  # never backwards
    assert done[0] == 0 and done[-1] == size
    assert any(0 < d < size for d in done)  # within the file


def test_no_bar_without_a_terminal_or_with_quiet(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _recording(monkeypatch)
    result = cli("ingest", str(SAMPLE_JSONL))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [line for line in result.stderr.splitlines()
                                          if line.startswith("ingested ")]
    monkeypatch.setattr(environment, "_isatty", lambda stream: True)
    assert cli("ingest", "-q", str(SAMPLE_JSONL)).exit_code == 0
    assert calls == [None, None]


def test_a_folder_moves_by_files(tmp_path: Path) -> None:
    """Files read one after the other are each reported begun and read, in order."""
    from tracecli.store.connection import open_store

    first, second = tmp_path / "a" / "first.jsonl", tmp_path / "a" / "second.parquet"
    first.parent.mkdir()
    shutil.copyfile(SAMPLE_JSONL, first)
    shutil.copyfile(SAMPLE_PARQUET, second)
    store = open_store(str(tmp_path / "store.duckdb"))
    calls: list[tuple[str, int]] = []
    try:
        pipeline.ingest(store, [str(first.parent)],
                        progress=lambda s, done, total: calls.append((Path(s.label).name, done)))
    finally:
        store.close()
    sizes = {"first.jsonl": first.stat().st_size, "second.parquet": second.stat().st_size}
    assert ("first.jsonl", 0) in calls and ("second.parquet", sizes["first.jsonl"]) in calls
    assert calls[-1] == ("second.parquet", sum(sizes.values()))
    assert [d for _, d in calls] == sorted(d for _, d in calls)


def _store_rows(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM ingests)").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _line_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The long line is measured by streaming, never read as a line (the error path's way)."""
    def whole_lines(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read line by line")
    monkeypatch.setattr(inputs, "scan_lines", whole_lines)
    monkeypatch.setattr(inputs, "read_lines", whole_lines)
    monkeypatch.setattr(pipeline, "LONG_LINE", LIMIT)


def _long_line_file(path: Path, length: int, at: int) -> Path:
    """The sample's rows, the `at`-th (1-based) carrying a user message that makes it `length`
    bytes long."""
    rows = [json.dumps(r) for r in sample_rows()]
    line = rows[at - 1]
    cut = line.index('"content": "') + len('"content": "')
    rows[at - 1] = line[:cut] + "x" * (length - len(line)) + line[cut:]
    path.write_text("".join(r + "\n" for r in rows))
    return path


@pytest.mark.parametrize("format_args", [(), ("--format", "portkey")], ids=["routed", "format"])
def test_a_line_past_the_limit_is_refused_naming_it(cli: Invoke, isolated_store: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    format_args: tuple[str, ...]) -> None:
    assert cli("ingest", str(SAMPLE_JSONL)).exit_code == 0
    before = _store_rows(isolated_store)
    path = _long_line_file(tmp_path / "long.jsonl", 40 << 20, at=3)
    _line_never_read(monkeypatch)
    result = cli("ingest", *format_args, str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr.splitlines() == [
        f"tracecli: error: {path}:3: line longer than 20 MiB, the longest JSONL line tracecli reads"]
    assert _store_rows(isolated_store) == before


def test_a_line_within_the_limit_still_reads(cli: Invoke, isolated_store: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = _long_line_file(tmp_path / "long.jsonl", 36 << 20, at=3)
    monkeypatch.setattr(pipeline, "LONG_LINE", 40 << 20)
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    assert _store_rows(isolated_store)[0] == len(sample_rows())


def test_a_gzip_expanding_to_one_long_line_is_refused(cli: Invoke, isolated_store: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A small gzip whose one line expands past the limit (here 200x, to 60 MB)."""
    assert cli("ingest", str(SAMPLE_JSONL)).exit_code == 0
    before = _store_rows(isolated_store)
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b'{"id": "big", "trace_id": "t", "request": {"messages": [{"role": "user", "content": "')
        for _ in range(60):
            fh.write(b"refund " * ((1 << 20) // 7))
        fh.write(b'"}]}}\n')
    assert path.stat().st_size * 200 < 60 << 20
    _line_never_read(monkeypatch)
    result = cli("ingest", str(path))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stderr.splitlines() == [
        f"tracecli: error: {path}:1: line longer than 20 MiB, the longest JSONL line tracecli reads"]
    assert _store_rows(isolated_store) == before


def test_skip_bad_sets_aside_a_file_with_a_line_past_the_limit(cli: Invoke, isolated_store: Path,
                                                               tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """--skip-bad goes on without the file, found by the same streaming pass (the line is never
    read whole), and ingests the files beside it."""
    path = _long_line_file(tmp_path / "long.jsonl", 40 << 20, at=3)
    _line_never_read(monkeypatch)
    monkeypatch.setattr(salvage, "LONG_LINE", LIMIT)
    result = cli("ingest", "--skip-bad", str(path), str(SAMPLE_JSONL))
    assert result.exit_code == 0, result.stderr
    assert f"{path}:3: line longer than 20 MiB, the longest JSONL line tracecli reads" in result.stderr
    assert _store_rows(isolated_store) == (len(sample_rows()), 1)


def test_a_gzipped_json_array_is_read_as_records_one_larger_than_a_line_too(
        cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    """A document's elements are read as lines are (its reading buffers sized for records, not
    for the whole document), and an element past the least allowance still reads."""
    rows = sample_rows()
    rows[2]["request"]["messages"][0]["content"] = "x" * (20 << 20)
    path = tmp_path / "export.json.gz"
    with gzip.open(path, "wt") as fh:
        json.dump(rows, fh)
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    assert _store_rows(isolated_store) == (len(rows), 1)
    with duckdb.connect(str(isolated_store), read_only=True) as con:
        row = con.execute("SELECT max(length(CAST(request AS VARCHAR))) FROM spans").fetchone()
    assert row is not None and row[0] > 20 << 20


@pytest.mark.parametrize(("text", "found"), [
    (b"a" * 10 + b"\n" + b"b" * 10 + b"\n", None),  # at the limit
    (b"a" * 10 + b"\n" + b"b" * 11 + b"\n", (2, 11)),
    (b"a\n" * 7 + b"c" * 25, (8, 11)),  # no newline at the end: counted as it is read
    (b"a\n\n" + b"d" * 9 + b"\n" + b"e" * 30 + b"\n", (4, 11)),
])
def test_the_first_line_longer_than_the_limit_is_found_by_streaming(
        tmp_path: Path, text: bytes, found: tuple[int, int] | None) -> None:
    """Chunks as long as the limit (10 bytes here), so lines cross them at every offset."""
    path = tmp_path / "lines.jsonl"
    path.write_bytes(text)
    source = inputs.Source(path=str(path), label="x", container="jsonl", gzipped=False,
                           size=len(text))
    got = inputs.line_longer_than(source, 10)
    assert (got[0] if got else None) == (found[0] if found else None)
    assert got is None or got[1] > 10


def _ticker_alive() -> bool:
    return any(t.name == "tracecli-progress" for t in threading.enumerate())


@pytest.mark.skipif(pipeline._bytes_read() is None, reason="the system does not count bytes read")
@pytest.mark.parametrize("stop", ["interrupt", "bad line"])
def test_the_ticker_stops_with_the_statement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             stop: str) -> None:
    """Ctrl-C (DuckDB interrupted while the ticker reports) or a bad record ends the ingest
    with nothing stored and the ticker gone: no report comes after."""
    from tracecli.store.connection import open_store

    path = _many_rows(tmp_path / "many.jsonl.gz", 6000)
    if stop == "bad line":
        with gzip.open(path, "ab") as fh:
            fh.write(b"not json\n")
    monkeypatch.setattr(pipeline, "TICK_SECONDS", 0.002)
    store = open_store(str(tmp_path / "store.duckdb"))
    calls: list[int] = []

    def report(source: inputs.Source, done: int, total: int) -> None:
        calls.append(done)
        if stop == "interrupt" and threading.current_thread() is not threading.main_thread():
            store.interrupt()

    try:
        with pytest.raises((duckdb.InterruptException, BadInput)) as failed:
            pipeline.ingest(store, [str(path)], progress=report)
        assert not _ticker_alive()
        reported = len(calls)
        assert store.execute("SELECT count(*) FROM spans").fetchone() == (0,)
    finally:
        store.close()
    assert isinstance(failed.value, BadInput) == (stop == "bad line")
    if stop == "bad line":
        assert f"{path}:6001: not valid JSON" in str(failed.value)
    else:
        assert len(calls) >= 2  # begun, then the tick that interrupted it
    assert len(calls) == reported
