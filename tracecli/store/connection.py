"""Opening the store: where it lives, waiting for another process's lock, migrating on open."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.sql import macros
from tracecli.store.schema import SCHEMA_VERSION, migrate, schema_version

MEMORY = ":memory:"
BUSY_WAIT_SECONDS = 10.0

def default_db_path() -> Path:
    """The store under the user's data dir, per platform convention."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "tracecli" / "tracecli.duckdb"


def resolve_db_path(db: str | None) -> str:
    """--db wins, then TRACECLI_DB, then the default path."""
    chosen = db or os.environ.get("TRACECLI_DB") or str(default_db_path())
    if chosen != MEMORY:
        Path(chosen).expanduser().parent.mkdir(parents=True, exist_ok=True)
        chosen = str(Path(chosen).expanduser())
    return chosen


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _connect_with_wait(path: str, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Another process holding the file's lock is waited for, boundedly, then reported as busy."""
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise TraceCliError(f"cannot open store {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise TraceCliError(
                    f"store is busy: {path} is locked by another tracecli process "
                    f"(waited {wait:.0f}s); try again when it finishes",
                    ExitCode.STORE_BUSY,
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise TraceCliError(f"cannot open store {path}: {exc}") from exc


def configure(con: duckdb.DuckDBPyConnection) -> None:
    """Session settings every command relies on: UTC timestamps, ordered scans, and the SQL
    vocabulary (tracecli.sql.macros), defined once per connection."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")  # tracecli reports progress its own way
    macros.install(con)


def open_store(
    db: str | None, *, read_only: bool = False, wait: float = BUSY_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    """Open (creating and migrating as needed) the store and return a configured connection."""
    path = resolve_db_path(db)
    if read_only and (path == MEMORY or not Path(path).exists()):
        read_only = False  # first use (or no file at all): an empty store rather than a failure
    con = _connect_with_wait(path, read_only, wait)
    configure(con)
    if read_only:
        version = schema_version(con)
        if version != SCHEMA_VERSION:
            con.close()
            con = _connect_with_wait(path, False, wait)
            configure(con)
            migrate(con)
    else:
        migrate(con)
    return con
