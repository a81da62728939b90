"""Crashes and concurrency, with real processes: kill -9 mid-ingest, two writers, readers during
a write. The store either holds a whole ingest or none of it, and a busy store says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SAMPLE_JSONL, Stored, sample_rows, wait_until_locked

HOLD_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
con.close()
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRACECLI_DEBUG"}
    env.update(NO_COLOR="1", **extra)
    return env


def tracecli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tracecli", *args], capture_output=True,
                          text=True, env=_env(**env), timeout=600)


def start(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tracecli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(**env))


def big_export(path: Path, copies: int) -> int:
    """The sample's rows repeated with fresh ids: `copies` x 15 distinct records."""
    rows = sample_rows()
    with path.open("w") as out:
        for c in range(copies):
            for row in rows:
                row = dict(row, id=f"{row['id']}-{c}", trace_id=f"{row['trace_id']}-{c}")
                out.write(json.dumps(row) + "\n")
    return copies * len(rows)


def counts(db: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return tuple(con.execute(  # type: ignore[return-value]
            "SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM ingests), "
            "(SELECT count(*) FROM trace_summary)").fetchone())


@pytest.fixture
def holder(isolated_store: Path):
    """Another process holding the store open for writing, until the test lets go."""
    procs: list[subprocess.Popen[str]] = []

    def hold() -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(isolated_store)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout and proc.stdout.readline().strip() == "locked"
        procs.append(proc)
        return proc

    yield hold
    for proc in procs:
        if proc.poll() is None:
            proc.communicate("\n", timeout=60)


def release(proc: subprocess.Popen[str]) -> None:
    proc.communicate("\n", timeout=60)


def test_kill_9_mid_ingest_leaves_earlier_ingests_whole(stored: Stored, isolated_store: Path,
                                                        tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))  # an earlier ingest
    before = counts(isolated_store)
    assert before[:2] == (len(sample_rows()), 1)
    big = tmp_path / "big.jsonl"
    n = big_export(big, 300)  # 4,500 records: an ingest of about a second
    # kill at later and later points (each twice as late as the last, from the moment the
    # ingest holds the store), until one lands after the commit: every one of them must leave
    # the store whole, holding all of the killed ingest or none of it
    outcomes = []
    for delay in (0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8):
        proc = start("ingest", str(big))
        wait_until_locked(isolated_store, proc)
        try:
            proc.wait(timeout=delay)  # an ingest that ends sooner is not waited for in vain
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        after = counts(isolated_store)  # the store opens
        assert after == before or after[:2] == (before[0] + n, before[1] + 1), after
        outcomes.append(after == before)
        if after != before:
            break
    assert outcomes[0] and outcomes.count(True) >= 2, outcomes
    again = tracecli("ingest", str(big))
    assert again.returncode == 0, again.stderr
    spans, ingests, _ = counts(isolated_store)
    assert spans == before[0] + n
    assert ingests == before[1] + 1 + (not outcomes[-1])  # +1 if a kill came after the commit
    shown = tracecli("show", "trc_7f3a2c91e4b0", "--format", "json")
    assert shown.returncode == 0 and json.loads(shown.stdout)["trace"]["llm_calls"] == 4


def test_busy_store_fails_clearly_for_writers_and_readers(stored: Stored, isolated_store: Path,
                                                         holder) -> None:
    stored(str(SAMPLE_JSONL))
    before = counts(isolated_store)
    hold = holder()
    for command in (["ingest", str(SAMPLE_JSONL)], ["traces"], ["show", "trc_7f3a2c91e4b0"],
                    ["cost"], ["spans"]):
        result = tracecli(*command, TRACECLI_BUSY_WAIT="0.3")
        assert result.returncode == 5, (command, result.stderr)
        assert result.stderr.startswith("tracecli: error: store is busy"), result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert result.stdout == ""
    release(hold)
    assert counts(isolated_store) == before


def test_a_waiting_ingest_proceeds_when_the_store_is_free(isolated_store: Path, holder) -> None:
    hold = holder()
    waiting = start("ingest", str(SAMPLE_JSONL), TRACECLI_BUSY_WAIT="120")
    time.sleep(0.5)
    assert waiting.poll() is None  # still waiting for the lock
    release(hold)
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert counts(isolated_store)[0] == len(sample_rows())


def test_two_ingests_at_once_never_corrupt(isolated_store: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    n = big_export(big, 400)
    procs = [start("ingest", str(big), TRACECLI_BUSY_WAIT="300"),
             start("ingest", str(SAMPLE_JSONL), str(big), TRACECLI_BUSY_WAIT="300")]
    results = [(p.wait(timeout=600), p.communicate()) for p in procs]
    for code, (_, err) in results:
        assert code == 0, err  # the second one waited its turn
    spans, ingests, _ = counts(isolated_store)
    assert spans == n + len(sample_rows())  # each record once, whichever ran first
    assert ingests == 2
