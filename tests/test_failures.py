"""Failures that are not tracecli's bugs: Ctrl-C mid-ingest, a full disk, a damaged store file,
absurd option values, a store from a newer tracecli. Each is one line on stderr with the right
exit code, never an "internal error", and the store is left as it was."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import (
    REFERENCE_TRACE,
    SAMPLE_JSONL,
    Invoke,
    StoreCache,
    Stored,
    copy_store,
    sample_rows,
    wait_until_locked,
)
from tracecli.store.schema import SCHEMA_VERSION

TABLES = ("spans", "trace_summary", "ingests", "feedback", "cost_rollup", "schema_migrations")


def snapshot(db: Path) -> dict[str, list[str]]:
    """Every row of the store's tables, in a comparable form."""
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}


def one_error_line(stderr: str) -> str:
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert stderr.startswith("tracecli: error: "), stderr
    return stderr


def export(path: Path, copies: int) -> int:
    """The sample's rows `copies` times over with fresh ids; returns how many records."""
    rows = sample_rows()
    with path.open("w") as out:
        for c in range(copies):
            for row in rows:
                out.write(json.dumps(dict(row, id=f"{row['id']}-{c}",
                                          trace_id=f"{row['trace_id']}-{c}")) + "\n")
    return copies * len(rows)


# -- 6. Ctrl-C during an ingest ---------------------------------------------------------------

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRACECLI_DEBUG"}
    env["NO_COLOR"] = "1"
    return env


def test_ctrl_c_mid_ingest_says_interrupted_and_leaves_the_store_as_it_was(
        stored: Stored, isolated_store: Path, tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    before = snapshot(isolated_store)
    big = tmp_path / "big.jsonl"
    export(big, 600)  # 9,000 records: an ingest of a couple of seconds
    outcomes = []
    for delay in (0.2, 0.05, 0.5, 0.0):  # from the moment the ingest holds the store
        proc = subprocess.Popen([sys.executable, "-m", "tracecli", "ingest", "--db",
                                 str(isolated_store), str(big)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env())
        wait_until_locked(isolated_store, proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err and "internal error" not in err, err
        if err == "tracecli: interrupted\n":
            assert proc.returncode == 130 and out == ""
            assert snapshot(isolated_store) == before  # exactly as it was: nothing half-written
            outcomes.append("interrupted")
            break
        # the signal came after the commit: the ingest is whole, and the message says so
        assert proc.returncode in (0, 130), err
        assert proc.returncode == 0 or err == "tracecli: interrupted (after the ingest was stored)\n"
        outcomes.append("stored")  # start again from the store as it was
        isolated_store.unlink()
        isolated_store.with_name(isolated_store.name + ".wal").unlink(missing_ok=True)
        stored(str(SAMPLE_JSONL))
    assert "interrupted" in outcomes, outcomes


# -- 7. A full disk under the store -----------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """`small_disk(size)`: a directory on a filesystem of that size (a tmpfs: needs root and a
    mount that works, else the test is skipped; the simulated full disk below still runs)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / f"small-{len(mounted)}"
        where.mkdir()
        done = shutil.which("mount") and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True, timeout=30).returncode == 0
        if not done:
            pytest.skip("cannot mount a small filesystem here")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], capture_output=True, timeout=30)


def test_a_full_disk_fails_the_ingest_whole_and_says_so(
        cli: Invoke, store_cache: StoreCache, small_disk: Callable[[str], Path],
        tmp_path: Path) -> None:
    db = small_disk("2m") / "store.duckdb"
    copy_store(store_cache.get(str(SAMPLE_JSONL))[0], db)
    before = snapshot(db)
    big = tmp_path / "big.jsonl"
    export(big, 100)  # 3 MB: more than the disk holds
    result = cli("ingest", "--db", str(db), str(big))
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert f"store {db} could not be written: no space left on device" in line
    assert "nothing was added" in line and str(big) not in line
    assert snapshot(db) == before
    assert cli("traces", "--db", str(db), "--limit", "0").exit_code == 0


def test_a_disk_full_after_the_commit_says_the_ingest_was_stored(
        cli: Invoke, small_disk: Callable[[str], Path]) -> None:
    """Room for the write-ahead log, not for the checkpoint that moves it into the file."""
    db = small_disk("256k") / "store.duckdb"
    result = cli("ingest", "--db", str(db), str(SAMPLE_JSONL))
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "could not be written: no space left on device; the ingest was stored" in line, line
    listed = cli("traces", "--db", str(db), "--limit", "0", "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 8


class FailingCommit:
    """A connection whose COMMIT fails as DuckDB's does on a full disk: the transaction is
    rolled back and the error names the write-ahead log."""

    def __init__(self, con: duckdb.DuckDBPyConnection, wal: str) -> None:
        self._con, self._wal = con, wal

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.strip().upper() == "COMMIT":
            self._con.execute("ROLLBACK")
            raise duckdb.TransactionException(
                f'TransactionContext Error: Failed to commit: Could not write file "{self._wal}": '
                "No space left on device")
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def test_a_full_disk_at_commit_simulated(cli: Invoke, stored: Stored, isolated_store: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same mapping where no small filesystem can be mounted."""
    from tracecli.store import connection

    stored(str(SAMPLE_JSONL))
    before = snapshot(isolated_store)
    real_open = connection.open_store

    def open_store(*args: Any, **kwargs: Any) -> Any:
        return FailingCommit(real_open(*args, **kwargs), f"{isolated_store}.wal")

    monkeypatch.setattr(connection, "open_store", open_store)
    other = isolated_store.with_name("other.jsonl")
    export(other, 2)
    result = cli("ingest", str(other))
    assert result.exit_code == 1
    line = one_error_line(result.stderr)
    assert "could not be written: no space left on device; nothing was added" in line
    assert "rollback" not in line.lower()
    monkeypatch.undo()
    assert snapshot(isolated_store) == before


# -- 8. A damaged store -----------------------------------------------------------------------

COMMANDS = [["traces"], ["show", REFERENCE_TRACE], ["cost"], ["cost", "--by", "trace"], ["spans"],
            ["replay", REFERENCE_TRACE, "--speed", "0"], ["ingest", str(SAMPLE_JSONL)]]
COMMAND_IDS = ["traces", "show", "cost", "cost-by-trace", "spans", "replay", "ingest"]


@pytest.mark.parametrize("command", COMMANDS, ids=COMMAND_IDS)
def test_a_store_cut_in_half_is_called_damaged_by_every_command(
        cli: Invoke, stored: Stored, isolated_store: Path, command: list[str]) -> None:
    stored(str(SAMPLE_JSONL), str(SAMPLE_JSONL.with_suffix(".parquet")))
    os.truncate(isolated_store, isolated_store.stat().st_size // 2)
    before = isolated_store.read_bytes()
    result = cli(*command)
    assert result.exit_code == 1, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"tracecli: error: store {isolated_store} is damaged or not a tracecli "
                           "store: "), line
    assert str(SAMPLE_JSONL) not in line  # never the input's fault
    assert result.stdout == ""
    assert isolated_store.read_bytes() == before


LEAVE_A_WAL = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("SET wal_autocheckpoint = '1TB'")
con.execute("CREATE TABLE crash_marker (x INTEGER)")
os._exit(0)  # as a crash leaves it: the change only in the write-ahead log
"""


@pytest.mark.parametrize("command", COMMANDS, ids=COMMAND_IDS)
def test_engine_errors_from_a_damaged_store_are_store_errors(
        cli: Invoke, stored: Stored, isolated_store: Path, command: list[str]) -> None:
    """With a write-ahead log pending, the file's length is not checked on open: the damage
    shows as DuckDB's own read errors, which are phrased as the store's all the same."""
    stored(str(SAMPLE_JSONL), str(SAMPLE_JSONL.with_suffix(".parquet")))
    subprocess.run([sys.executable, "-c", LEAVE_A_WAL, str(isolated_store)], check=True,
                   timeout=60)
    assert isolated_store.with_name(isolated_store.name + ".wal").stat().st_size
    os.truncate(isolated_store, isolated_store.stat().st_size // 2)
    result = cli(*command)
    if command == ["cost"]:  # answered from the roll-up, in the half that is left
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 1, result.stderr
    line = one_error_line(result.stderr)
    assert "is damaged or not a tracecli store: IO Error: Could not read" in line, line
    assert str(SAMPLE_JSONL) not in line.split("is damaged")[0]


def test_a_real_bug_is_still_an_internal_error(cli: Invoke, stored: Stored,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tracecli.read import listing

    def broken(*_: Any) -> Any:
        raise duckdb.BinderException('Binder Error: Referenced column "nope" not found')

    stored(str(SAMPLE_JSONL))
    monkeypatch.setattr(listing, "list_traces", broken)
    result = cli("traces")
    assert result.exit_code == 1
    assert result.stderr.startswith("tracecli: error: internal error: BinderException: ")
    assert "--debug" in result.stderr
    debug = cli("--debug", "traces")
    assert "Traceback" in debug.stderr and "internal error: BinderException" in debug.stderr


# -- 9. Absurd option values ------------------------------------------------------------------

ABSURD = [
    (["traces", "--since", "99999999999d"], "--since"),
    (["traces", "--until", "99999999999d"], "--until"),
    (["cost", "--since", "9999-12-31T23:59:59-05:00"], "--since"),
    (["spans", "--since", "9" * 400 + "s"], "--since"),
    (["traces", "--limit", "99999999999999999999"], "--limit"),
    (["spans", "--limit", "99999999999999999999"], "--limit"),
    (["traces", "--min-cost", "nan"], "--min-cost"),
    (["traces", "--min-cost", "inf"], "--min-cost"),
    (["traces", "--min-cost", "-1"], "--min-cost"),
    (["replay", REFERENCE_TRACE, "--endpoint", "http://127.0.0.1:9/v1", "--timeout", "nan"],
     "--timeout"),
    (["replay", REFERENCE_TRACE, "--endpoint", "http://127.0.0.1:9/v1", "--timeout", "0"],
     "--timeout"),
    (["replay", REFERENCE_TRACE, "--max-wait", "-1"], "--max-wait"),
    (["replay", REFERENCE_TRACE, "--max-wait", "nan"], "--max-wait"),
    (["replay", REFERENCE_TRACE, "--speed", "inf"], "--speed"),
    (["replay", REFERENCE_TRACE, "--speed", "nan"], "--speed"),
    (["replay", REFERENCE_TRACE, "--speed", "-2"], "--speed"),
]


@pytest.mark.parametrize(("args", "option"), ABSURD,
                         ids=[f"{a[0]} {o} {a[-1][:12]}" for a, o in ABSURD])
def test_absurd_option_values_are_usage_errors(cli: Invoke, stored: Stored, args: list[str],
                                               option: str) -> None:
    stored(str(SAMPLE_JSONL))
    result = cli(*args)
    assert result.exit_code == 2, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith(f"tracecli: error: {option} "), line
    assert result.stdout == ""


def test_sensible_values_next_to_the_absurd_ones_still_work(cli: Invoke, stored: Stored) -> None:
    stored(str(SAMPLE_JSONL))
    for args in (["traces", "--since", "36500d"], ["traces", "--limit", "1000000"],
                 ["traces", "--min-cost", "0"], ["replay", REFERENCE_TRACE, "--speed", "0",
                                                 "--max-wait", "0"]):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)


# -- 10. A store from a newer tracecli --------------------------------------------------------

def test_a_newer_store_is_reported_by_its_version_not_its_row_count(
        cli: Invoke, stored: Stored, isolated_store: Path) -> None:
    stored(str(SAMPLE_JSONL))
    newer = SCHEMA_VERSION + 5
    with duckdb.connect(str(isolated_store)) as con:
        con.execute("INSERT INTO schema_migrations (version, name) VALUES ($v, 'from the future')",
                    {"v": newer})
    before = isolated_store.read_bytes()
    for command in (["traces"], ["ingest", str(SAMPLE_JSONL)]):
        result = cli(*command)
        assert result.exit_code == 6
        line = one_error_line(result.stderr)
        assert (f"store schema version {newer} is newer than this tracecli understands "
                f"({SCHEMA_VERSION})") in line, line
    assert isolated_store.read_bytes() == before


def test_a_store_whose_migrations_are_listed_twice_is_not_newer(
        cli: Invoke, stored: Stored, isolated_store: Path) -> None:
    stored(str(SAMPLE_JSONL))
    with duckdb.connect(str(isolated_store)) as con:  # more rows than versions
        con.execute("INSERT INTO schema_migrations SELECT * FROM schema_migrations WHERE version = 1")
    result = cli("traces", "--format", "json", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 8
