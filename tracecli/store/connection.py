"""Opening the store: where it lives, waiting for another process's lock, migrating on open."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tracecli.errors import BadInput, ExitCode, NotFound, TraceCliError, first_line
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


def db_path(db: str | None) -> str:
    """--db wins, then TRACECLI_DB, then the default path (nothing is created)."""
    chosen = db or os.environ.get("TRACECLI_DB") or str(default_db_path())
    return chosen if chosen == MEMORY else str(Path(chosen).expanduser())


def resolve_db_path(db: str | None) -> str:
    """The store's path (`db_path`), with its directory made."""
    chosen = db_path(db)
    if chosen != MEMORY:
        Path(chosen).parent.mkdir(parents=True, exist_ok=True)
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
    """Open (creating and migrating as needed) the store and return a configured connection.
    Read-only, the store must exist already: reads never create one (an in-memory one is new)."""
    path = db_path(db) if read_only else resolve_db_path(db)
    if read_only and path != MEMORY:
        _check_is_store_file(path)
    read_only = read_only and path != MEMORY
    con = _connect_with_wait(path, read_only, wait)
    with store_failures(path):
        try:
            _check_whole(con, path)
            configure(con)
            if read_only and schema_version(con) == 0:
                raise TraceCliError(f"cannot open store {path}: a DuckDB database, but not a "
                                    "tracecli store", ExitCode.BAD_INPUT)
            if read_only and schema_version(con) != SCHEMA_VERSION:
                con.close()
                con = _connect_with_wait(path, False, wait)
                configure(con)
                migrate(con)
            elif not read_only:
                migrate(con)
        except BaseException:
            _close_quietly(con)
            raise
    return con


# Where a DuckDB file says what it is: bytes 8-11 of its header.
_MAGIC = (8, b"DUCK")


def _check_is_store_file(path: str) -> None:
    """A store to read is a DuckDB file that exists: a typo in --db is no empty store, and a log
    file given as the store is not DuckDB's puzzle (`Cannot launch in-memory database`)."""
    file = Path(path)
    if not file.exists():
        raise NotFound(f"no store at {path} (run `tracecli ingest` first)")
    offset, magic = _MAGIC
    try:
        with file.open("rb") as f:
            f.seek(offset)
            found = f.read(len(magic))
    except OSError as exc:  # a directory, a file it may not read
        raise TraceCliError(f"cannot open store {path}: {exc.strerror or exc}",
                            ExitCode.BAD_INPUT) from exc
    if found != magic:
        raise TraceCliError(f"cannot open store {path}: not a tracecli store (not a DuckDB "
                            "database file)", ExitCode.BAD_INPUT)


def holds_spans(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has any span (an empty one answers every listing with no rows)."""
    return con.execute("SELECT EXISTS (SELECT 1 FROM spans)").fetchone() == (True,)


def _close_quietly(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.close()
    except duckdb.Error:
        pass  # a connection a fatal error invalidated: closing it has nothing left to undo


def _check_whole(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Refuse a store file shorter than the blocks its header lists (cut short by a full disk, a
    copy that stopped, a bad restore): reads of the missing part would fail one by one, and
    writes would land on a file that no longer holds its own data. Skipped while a write-ahead
    log is pending (what it replays may not be in the file yet)."""
    wal = Path(path + ".wal")
    if path == MEMORY or (wal.exists() and wal.stat().st_size):
        return
    row = con.execute("SELECT block_size, total_blocks FROM pragma_database_size() "
                      "WHERE database_name = current_database()").fetchone()
    needed = int(row[0]) * int(row[1]) if row and row[0] is not None and row[1] is not None else 0
    size = Path(path).stat().st_size
    if size < needed:
        raise TraceCliError(f"store {path} is damaged or not a tracecli store: the file holds "
                            f"{size:,} bytes of the {needed:,} its blocks need (cut short?)")


_NO_SPACE = ("no space left on device", "disk quota exceeded", "not enough space on the disk")
_DAMAGE = ("corrupt", "checksum", "could not read enough bytes", "not a valid duckdb database")


@contextmanager
def store_failures(path: str | None, outcome: str = "") -> Iterator[None]:
    """Failures of the store file inside the block raised as `store_problem` phrases them; an
    input error that a store failure caused (struck while reading the input) counts as one."""
    try:
        yield
    except BaseException as exc:
        engine = exc.__cause__ if isinstance(exc, BadInput) else exc
        problem = store_problem(engine, path, outcome) if engine is not None else None
        if problem is None:
            raise
        raise problem from exc


def store_problem(exc: BaseException, path: str | None, outcome: str = "") -> TraceCliError | None:
    """`exc` phrased as what it is when the store's file failed rather than tracecli (a full
    disk, a file that cannot be written, a damaged one), else None. `path` is the store file (None
    for an in-memory store); `outcome` says what became of the command's writes."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc)
    lower = text.lower()
    where = f"store {path}" if path and path != MEMORY else "the store"
    tail = f"; {outcome}" if outcome else ""
    if any(words in lower for words in _NO_SPACE):
        return TraceCliError(f"{where} could not be written: no space left on device{tail}")
    if not path or path == MEMORY:
        return None
    if isinstance(exc, duckdb.IOException) and not _names(text, path):
        return None  # another file's (an input's): not the store's problem
    if isinstance(exc, duckdb.IOException | duckdb.SerializationException) or any(
            words in lower for words in _DAMAGE):
        if isinstance(exc, duckdb.IOException) and ("write" in lower or "permission" in lower
                                                    or "read-only" in lower):
            return TraceCliError(f"{where} could not be written: {first_line(exc)}{tail}")
        return TraceCliError(f"{where} is damaged or not a tracecli store: {first_line(exc)}{tail}")
    if isinstance(exc, duckdb.FatalException):
        return TraceCliError(f"{where} could not be written: {first_line(exc)}{tail}")
    return None


def _names(text: str, path: str) -> bool:
    """Whether an engine message names the store file (DuckDB names it by its absolute path)."""
    return any(form in text for form in {path, os.path.abspath(path), os.path.realpath(path)})


def store_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file the connection's store lives in; None for an in-memory store."""
    row = con.execute("SELECT path FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    return str(row[0]) if row and row[0] else None


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C as DuckDB reports it: a statement stops with "Query interrupted" (the Python
    binding takes the KeyboardInterrupt itself)."""
    return isinstance(exc, KeyboardInterrupt | duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted")
