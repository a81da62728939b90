"""Every test gets its own store: TRACECLI_DB points into tmp_path, so no test touches a real one.

Setups that many tests share — the samples, a format fixture, a test file's seed records — are
ingested once per session (`StoreCache`) and copied into the test's own store (`stored`,
`sample_store`): a test that writes to its store changes only its copy."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from tracecli.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
SAMPLE_JSONL = SAMPLES / "portkey_export.jsonl"
SAMPLE_PARQUET = SAMPLES / "portkey_export.parquet"
SAMPLE_FEEDBACK = SAMPLES / "feedback" / "portkey_feedback.jsonl"
REFERENCE_TRACE = "trc_7f3a2c91e4b0"


# Test files whose tests read the same session-built stores (test_golden's, the format fixtures'),
# kept on one pytest-xdist worker (`--dist loadgroup`) so that each store is built once.
SHARED_SETUP = {"test_golden": "golden", "test_formats": "formats", "test_toolcalls": "formats"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = SHARED_SETUP.get(item.path.stem)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True, scope="session")
def _command_built_once() -> Iterator[None]:
    """typer's CliRunner builds the click command from the app's signatures on every invoke
    (~20 ms, a third of a small read); a tracecli process builds it once, and so does the session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", functools.cache(typer.main.get_command))
        yield


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "store.duckdb"
    monkeypatch.setenv("TRACECLI_DB", str(db))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TRACECLI_DEBUG", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return db


Invoke = Callable[..., Result]


@pytest.fixture
def cli() -> Invoke:
    """Run tracecli in-process; `input` feeds stdin."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def copy_store(source: Path, target: Path) -> None:
    """A store file (and its write-ahead log, if one was left) copied as a whole."""
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


class StoreCache:
    """Stores built once per session: the first `get(*args)` runs `tracecli ingest ARGS` into a
    fresh store and keeps it (and the ingest's stderr); later calls return the same one. Callers
    copy it before using it, so it never changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stores: dict[tuple[str, ...], tuple[Path, str]] = {}

    def get(self, *args: str) -> tuple[Path, str]:
        if args not in self._stores:
            db = self.root / f"store-{len(self._stores)}.duckdb"
            result = CliRunner().invoke(app, ["ingest", "--db", str(db), *args],
                                        catch_exceptions=False)
            assert result.exit_code == 0, (args, result.stderr)
            self._stores[args] = (db, result.stderr)
        return self._stores[args]

    def file(self, name: str, rows: list[dict[str, Any]]) -> Path:
        """A JSONL file of `rows` in the session's directory (written once per name)."""
        path = self.root / name
        if not path.exists():
            path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path


@pytest.fixture(scope="session")
def store_cache(tmp_path_factory: pytest.TempPathFactory) -> StoreCache:
    return StoreCache(tmp_path_factory.mktemp("shared-stores"))


Stored = Callable[..., str]


@pytest.fixture
def stored(store_cache: StoreCache, isolated_store: Path) -> Stored:
    """`stored(*args)`: this test's empty store becomes what `tracecli ingest ARGS` makes of it
    (a copy of the session's one run of that ingest); returns the ingest's stderr."""

    def ingest(*args: str) -> str:
        assert not isolated_store.exists(), "stored() fills an empty store only"
        db, stderr = store_cache.get(*args)
        copy_store(db, isolated_store)
        return stderr

    return ingest


@pytest.fixture
def sample_store(stored: Stored) -> None:
    """The README's quick start: every bundled sample file ingested."""
    stored(str(SAMPLES))


def sample_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE_JSONL.read_text().splitlines() if line.strip()]


def wait_until_locked(db: Path, proc: subprocess.Popen[str]) -> None:
    """Until the ingest process holds the store (opening it read-only fails on the lock)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            duckdb.connect(str(db), read_only=True).close()
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                return
            raise
        time.sleep(0.01)
    raise AssertionError("the ingest never took the store")


def reply_json(handler: BaseHTTPRequestHandler, body: Any) -> None:
    """A fake endpoint's 200 answer."""
    payload = json.dumps(body).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(payload)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An OpenAI-compatible base URL on 127.0.0.1 answered by `handler`, for the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
