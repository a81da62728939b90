"""Time tracecli against its baselines, in the same run on the same files, and print the ratios.

Every figure is a whole process (start-up included): wall time and peak RSS of a child process,
median of --runs runs. A process past --cap seconds or --rss-guard-gb of memory is stopped and
reported as such; a figure whose first run takes longer than --slow seconds is that one run.
Quick run (about 10 minutes on 2 cores once the targets are met; slower figures are capped):

    python benchmarks/run.py

Full size (issues 11 and 13's tables; about 2 hours, estimated, ~30 GB under benchmarks/data):

    python benchmarks/run.py --n 1000000 --spans 10000000 --big-gb 5 \\
        --folder-files 400,2000,10000 --otlp-spans 13600,136000 --gzip-gb 3 --cap 3600

Sections can be picked with --only (help, small, fixed, ingest, reingest, parquet, size, store,
stream, tables, folder, otlp, limits, big).
"""

from __future__ import annotations

import argparse
import fcntl
import functools
import json
import os
import pty
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py)

PY = sys.executable
SECTIONS = ("help", "small", "fixed", "ingest", "reingest", "parquet", "size", "store", "stream",
            "tables", "folder", "otlp", "limits", "big")
SAMPLE = REPO / "sample_logs" / "portkey_export.jsonl"
SAMPLE_TRACE = "trc_7f3a2c91e4b0"
SCREEN = (50, 200)  # rows, columns of the terminal the table figures are measured on

BARE_DUCKDB = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?)", [sys.argv[1]])
con.close()
"""

# The small-input floor: a fresh Python that imports duckdb and reads each file into a store.
BARE_STORE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
for i, path in enumerate(sys.argv[2:]):
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_json(?)", [path])
con.close()
"""

# The same, with perf_counter around each part (the "where the fixed cost goes" table).
BARE_PARTS = """
import json, sys, time
t0 = time.perf_counter()
import duckdb
t1 = time.perf_counter()
con = duckdb.connect(sys.argv[1])
t2 = time.perf_counter()
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?)", [sys.argv[2]])
t3 = time.perf_counter()
con.close()
t4 = time.perf_counter()
print(json.dumps({"import duckdb": t1 - t0, "duckdb.connect": t2 - t1, "read_json into a table": t3 - t2,
                  "close": t4 - t3}))
"""

# What a simple log tool does: parse each line in Python, insert into SQLite.
PY_SQLITE = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[2])
con.execute("CREATE TABLE logs (id TEXT, trace_id TEXT, span_id TEXT, created_at TEXT, model TEXT,"
            " status INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER, cost REAL,"
            " metadata TEXT, request TEXT, response TEXT)")
batch = []
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        r = json.loads(line)
        batch.append((r.get("id"), r.get("trace_id"), r.get("span_id"), r.get("created_at"),
                      r.get("ai_model"), r.get("response_status_code"), r.get("req_units"),
                      r.get("res_units"), r.get("cost"), json.dumps(r.get("metadata")),
                      json.dumps(r.get("request")), json.dumps(r.get("response"))))
        if len(batch) >= 10000:
            con.executemany("INSERT INTO logs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch.clear()
con.executemany("INSERT INTO logs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", batch)
con.commit()
con.close()
"""

BARE_QUERY = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute(sys.argv[2], sys.argv[3:]).fetchall()[:3])
"""

# DuckDB writing the span table itself: the ceiling of a streamed listing.
BARE_COPY = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("COPY (SELECT * FROM spans) TO '" + sys.argv[2].replace("'", "''") + "' (" + sys.argv[3] + ")")
"""

BARE_GLOB = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?" + sys.argv[3] + ")", [sys.argv[1]])
con.close()
"""


@dataclass
class Limits:
    """How long and how big a child may grow before the runner stops it (set from the options)."""

    cap: float = 120.0
    guard_mb: float = 4096.0
    slow: float = 30.0


LIMITS = Limits()


@dataclass
class Run:
    seconds: float
    rss_mb: float
    code: int = 0
    stopped: str = ""  # why the runner stopped it: "time" or "memory" ("screen" is no failure)
    first_line: float | None = None  # seconds until stdout's first line
    lines: int = 0
    out_bytes: int = 0
    stderr: str = ""
    expect_fail: bool = False
    runs: int = 1
    planned: int = 1

    @property
    def ok(self) -> bool:
        if self.stopped:
            return self.stopped == "screen"
        return (self.code != 0) if self.expect_fail else self.code == 0

    @property
    def message(self) -> str:
        """The child's last stderr line (its error, for a refused input)."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        return lines[-1][:100] + ("…" if len(lines[-1]) > 100 else "") if lines else ""


@dataclass
class Row:
    work: str
    figure: str
    baseline: str
    ratio: str
    target: str
    ok: bool | None


ROWS: list[Row] = []
FIXED: list[str] = []  # the fixed-cost tables, printed after the results


PYCACHE = generate.DATA / "pycache"


def child_env(**extra: str) -> dict[str, str]:
    """The children's variables: this tree's tracecli first on the path (the installed console
    script may point elsewhere), no inherited terminal size or store, and compiled bytecode
    kept, as an installed package has it (with PYTHONDONTWRITEBYTECODE set, every process
    compiles tracecli's modules from source again), under benchmarks/data/pycache."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "TRACECLI_DB", "PAGER", "LESS",
                        "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


def warm_up(work: Path) -> None:
    """Compile every module the timed processes import (PYCACHE), untimed."""
    db = work / "warm.duckdb"
    remove_db(db)
    for cmd in ([PY, "-c", "import duckdb, pyarrow, sqlite3"],
                [*tracecli_cmd(), "ingest", str(SAMPLE), "--db", str(db), "-q"],
                [*tracecli_cmd(), "cost", "--from", str(SAMPLE)],
                [*tracecli_cmd(), "show", SAMPLE_TRACE, "--db", str(db)],
                [*tracecli_cmd(), "export", "--db", str(db)]):
        subprocess.run(cmd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
    remove_db(db)


def tracecli_cmd() -> list[str]:
    exe = shutil.which("tracecli")
    return [exe] if exe else [PY, "-m", "tracecli"]


def _tree_rss_mb(session: int) -> float:
    """Resident memory of every process in the session the runner started."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            if int(stat.rsplit(")", 1)[1].split()[3]) != session:
                continue
            with open(f"/proc/{entry}/statm") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Output:
    """A child's stdout, read as it comes: when its first line and first screen arrived."""

    def __init__(self, fd: int, start: float, screen_lines: int) -> None:
        self.fd, self.start, self.screen_lines = fd, start, screen_lines
        self.first_line: float | None = None
        self.screen: float | None = None
        self.lines = self.bytes = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:  # a pty whose last writer is gone
                return
            if not chunk:
                return
            now = time.perf_counter() - self.start
            self.bytes += len(chunk)
            newlines = chunk.count(b"\n")
            if newlines and self.first_line is None:
                self.first_line = now
            self.lines += newlines
            if self.screen_lines and self.screen is None and self.lines >= self.screen_lines:
                self.screen = now


def launch(cmd: list[str], *, read_stdout: bool = False, screen: bool = False,
           expect_fail: bool = False, env: dict[str, str] | None = None) -> Run:
    """One child process: wall time, peak RSS (from /usr/bin/time: a child's own rusage starts
    from its parent's high-water mark at exec on Linux), and, when asked, when its stdout's first
    line came; on a pseudo-terminal of SCREEN size (`screen`), the time its first screenful of
    lines arrived, after which it is stopped, as a user leaving the pager would."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss, \
            tempfile.TemporaryFile() as err:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd]
        slave = None
        if screen:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SCREEN[0], SCREEN[1], 0, 0))
            stdout: Any = slave
            env = {**(env or child_env()), "TERM": "xterm-256color", "PAGER": "cat"}
        else:
            stdout = subprocess.PIPE if read_stdout else subprocess.DEVNULL
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=slave if screen else subprocess.DEVNULL,
                                stdout=stdout, stderr=err, env=env or child_env(),
                                start_new_session=True)
        output = None
        if screen:
            os.close(slave)  # type: ignore[arg-type]
            output = _Output(master, start, SCREEN[0])
        elif read_stdout:
            assert proc.stdout
            output = _Output(proc.stdout.fileno(), start, 0)
        stopped, peak, polls = "", 0.0, 0
        while proc.poll() is None:
            time.sleep(0.01)
            polls += 1
            elapsed = time.perf_counter() - start
            if output and output.screen is not None:
                stopped = "screen"
            elif elapsed > LIMITS.cap:
                stopped = "time"
            elif polls % 10 == 0:
                peak = max(peak, _tree_rss_mb(proc.pid))
                stopped = "memory" if peak > LIMITS.guard_mb else ""
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)  # the session this runner started
                proc.wait()
                break
        seconds = time.perf_counter() - start
        if output:
            output.thread.join(timeout=5)
            if screen:
                os.close(master)
        if proc.stdout:
            proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        text = rss.read().split()
        measured = int(text[-1]) / 1024 if text and text[-1].isdigit() and not stopped else 0.0
    run = Run(seconds, max(measured, peak), code=proc.returncode, stopped=stopped,
              stderr=stderr, expect_fail=expect_fail)
    if output:
        run.first_line, run.lines, run.out_bytes = output.first_line, output.lines, output.bytes
        if output.screen is not None:
            run.seconds = output.screen
    if not run.ok and not expect_fail:
        print(f"    ! {command_text(cmd)}: {describe(run)}", flush=True)
    return run


def command_text(cmd: list[str]) -> str:
    """A command as a message names it: an inline script by its first line."""
    shown = [arg.strip().splitlines()[0] + " …" if "\n" in arg else arg for arg in cmd]
    return " ".join(shown)[:200]


def median_run(cmd: list[str], runs: int, before: Callable[[], None] | None = None,
               **kwargs: Any) -> Run:
    """The median of `runs` runs; fewer when one fails, is stopped, or takes over LIMITS.slow."""
    results: list[Run] = []
    for _ in range(runs):
        if before:
            before()
        run = launch(cmd, **kwargs)
        results.append(run)
        if not run.ok or run.seconds > LIMITS.slow:
            break
    last = results[-1]
    if not last.ok:
        return replace(last, runs=len(results), planned=runs)

    def mid(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    return replace(last, seconds=statistics.median(r.seconds for r in results),
                   rss_mb=statistics.median(r.rss_mb for r in results),
                   first_line=mid([r.first_line for r in results]), runs=len(results),
                   planned=runs)


def copy_db(src: Path, dest: Path) -> None:
    """A copy of a store, on disk before anything is timed: otherwise the timed command's first
    fsync writes the whole copy out (a second or more for the 1 GB store)."""
    remove_db(dest)
    shutil.copyfile(src, dest)
    with open(dest, "rb+") as f:
        os.fsync(f.fileno())


def remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


def seconds_text(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def describe(run: Run, what: str = "time") -> str:
    """A run's figure as the table shows it: a stopped or failed run says so."""
    if run.stopped == "time":
        return f"> {LIMITS.cap:.0f} s (stopped)"
    if run.stopped == "memory":
        return f"> {LIMITS.guard_mb:,.0f} MB RSS (stopped after {run.seconds:.0f} s)"
    if not run.ok and run.expect_fail:
        return f"{run.rss_mb:,.0f} MB, accepted (exit 0): not refused"
    if not run.ok:
        return f"failed (exit {run.code}): {run.message}"
    figure = {"time": seconds_text(run.seconds), "rss": f"{run.rss_mb:,.0f} MB",
              "first": seconds_text(run.first_line or run.seconds)}[what]
    return figure + (f" ({run.runs} run{'s' if run.runs > 1 else ''})"
                     if run.runs < run.planned else "")


def add_row(work: str, figure: str, baseline: str, ratio: float | None, target: str,
            ok: bool | None) -> None:
    ROWS.append(Row(work, figure, baseline, f"{ratio:.2f}x" if ratio is not None else "-",
                    target, ok))
    print(f"  {work}: {figure} vs {baseline}" + (f" = {ratio:.2f}x" if ratio is not None else "")
          + ("" if ok is None else " (met)" if ok else " (NOT met)"), flush=True)


def record(work: str, ours: Run, base_label: str, base: Run, target: str, limit: float | None,
           *, what: str = "time", ratio: float | None = None, ok: bool | None = None) -> None:
    """A row comparing two runs by time (or peak RSS: what="rss"); met when the ratio is at most
    `limit` (absolute targets pass `ok`)."""
    def value(r: Run) -> float:
        return r.rss_mb if what == "rss" else r.seconds

    if ratio is None and ours.ok and base.ok and value(base):
        ratio = value(ours) / value(base)
    if ok is None and limit is not None:
        ok = ours.ok and ratio is not None and ratio <= limit
    add_row(work, describe(ours, what), f"{base_label} {describe(base, what)}", ratio, target, ok)


def spans_in(db: Path) -> int:
    return int(query(db, "SELECT count(*) FROM spans")[0])


def query(db: Path, sql: str) -> tuple[Any, ...]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        return tuple(row) if row else ()
    finally:
        con.close()


def size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
    return path.stat().st_size / 1e6


# ---------------------------------------------------------------- start-up and small inputs

def bench_help(runs: int) -> None:
    print("--help start-up", flush=True)
    base = median_run([PY, "-c", "pass"], max(runs, 5))
    cli = median_run([*tracecli_cmd(), "--help"], max(runs, 5))
    record("tracecli --help", cli, "python -c pass", base, "<= 0.150 s", None,
           ok=cli.ok and cli.seconds <= 0.150)


def bench_small(work: Path, runs: int, seed: int) -> None:
    """One small file in, and every read command over one with --from, against a fresh Python
    that imports duckdb and reads the same files into a store."""
    otlp = generate.ensure_otlp_small(seed)
    otlp_files = sorted(otlp.glob("*.jsonl"))
    cli, db, bare_db = tracecli_cmd(), work / "small.duckdb", work / "small_bare.duckdb"
    print("small inputs", flush=True)
    cases = [("ingest the 15-row sample (portkey_export.jsonl)", [SAMPLE], [SAMPLE]),
             (f"ingest a {generate.SMALL_SPANS}-span OTLP file + its log records", otlp_files,
              [otlp])]
    for work_label, files, inputs in cases:
        base = median_run([PY, "-c", BARE_STORE, str(bare_db), *map(str, files)], runs,
                          lambda: remove_db(bare_db))
        ours = median_run([*cli, "ingest", *map(str, inputs), "--db", str(db), "-q"], runs,
                          lambda: remove_db(db))
        record(work_label, ours, "python + duckdb read_json into a store", base,
               "<= 2.0x", 2.0)
    sample_base = median_run([PY, "-c", BARE_STORE, str(bare_db), str(SAMPLE)], runs,
                             lambda: remove_db(bare_db))
    reads = [["traces"], ["show", SAMPLE_TRACE], ["cost"], ["cost", "--by", "tag"],
             ["spans", "--limit", "0"], ["export"]]
    for args in reads:
        ours = median_run([*cli, *args, "--from", str(SAMPLE)], runs)
        record(f"{' '.join(args)} --from the 15-row sample", ours,
               "python + duckdb read_json into a store", sample_base, "<= 2.0x", 2.0)
    remove_db(db)
    remove_db(bare_db)


# ---------------------------------------------------------------- where the fixed cost goes

class Clock:
    """Inclusive perf_counter time of named steps, nested as they ran."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self.order: list[tuple[int, str]] = []
        self.stack: list[str] = []
        self.statements: dict[str, list[float]] = {}
        self.mappings: list[tuple[str, Any]] = []  # the INSERT statements that read a file

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as `name` within the steps running (a step called from two places
        is two rows)."""
        path = " / ".join([*self.stack, name])
        if path not in self.totals:
            self.order.append((len(self.stack), path))
            self.totals[path] = 0.0
        self.stack.append(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[path] += time.perf_counter() - start
            self.calls[path] += 1
            self.stack.pop()

    def wrap(self, module: Any, attr: str, name: str) -> None:
        original = getattr(module, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.step(name):
                return original(*args, **kwargs)

        setattr(module, attr, timed)


class TimedConnection:
    """A DuckDB connection whose statements are timed by kind (CHECKPOINT, COMMIT, macros…)."""

    def __init__(self, con: Any, clock: Clock) -> None:
        self._con, self._clock = con, clock

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        kind = statement_kind(sql)
        if kind == "INSERT (mapping)":
            self._clock.mappings.append((sql, args[0] if args else None))
        start = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self._clock.statements.setdefault(kind, []).append(time.perf_counter() - start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def statement_kind(sql: str) -> str:
    words = re.sub(r"\s+", " ", sql.strip()).upper()
    reads_file = "READ_JSON" in words or "READ_PARQUET" in words
    if reads_file:
        return "INSERT (mapping)" if words.startswith("INSERT") else "SELECT over the file"
    for prefix in ("CREATE OR REPLACE TEMP MACRO", "CREATE OR REPLACE MACRO", "CHECKPOINT",
                   "COMMIT", "BEGIN", "ROLLBACK", "SET", "RESET", "CREATE OR REPLACE TEMP TABLE",
                   "CREATE TABLE", "INSERT", "UPDATE", "DELETE", "SELECT", "WITH", "DESCRIBE"):
        if words.startswith(prefix):
            return prefix
    return words.split(" ")[0]


STEPS = [  # (module, attribute, label): what the instrumented child times, by tracecli's names
    ("tracecli.store.connection", "open_store", "store open (open_store)"),
    ("tracecli.store.connection", "_connect_with_wait", "store open: duckdb.connect"),
    ("tracecli.store.connection", "_check_whole", "store open: file size check"),
    ("tracecli.store.connection", "configure", "store open: session settings + macros"),
    ("tracecli.sql.macros", "install", "tracecli.sql.macros install"),
    ("tracecli.store.connection", "migrate", "store open: migrations check"),
    ("tracecli.store.connection", "schema_version", "store open: schema version"),
    ("tracecli.ingest.pipeline", "ingest", "ingest (pipeline.ingest)"),
    ("tracecli.ingest.pipeline", "expand", "inputs: expand paths"),
    ("tracecli.ingest.pipeline", "_plan", "routing: plan"),
    ("tracecli.ingest.routing", "plan_file", "routing: label pass (plan_file)"),
    ("tracecli.ingest.routing", "plan_batch", "routing: label pass of a batch (plan_batch)"),
    ("tracecli.ingest.routing", "label_batch", "routing: labels of a batch (label_batch)"),
    ("tracecli.ingest.formats.registry", "install_macros", "readers' macros (shapes.install)"),
    ("tracecli.ingest.redact", "install", "redaction setup (redact.install)"),
    ("tracecli.ingest.pipeline", "_run", "transaction (pipeline._run)"),
    ("tracecli.ingest.pipeline", "_next_ingest_id", "next ingest id"),
    ("tracecli.ingest.pipeline", "_stage", "stage a file (pipeline._stage)"),
    ("tracecli.ingest.pipeline", "_mapped", "mapping SQL assembly (_mapped)"),
    ("tracecli.ingest.pipeline", "_first_record_stored", "first-record check (LIMIT 1)"),
    ("tracecli.ingest.pipeline", "_insert_all", "INSERT of the mapping"),
    ("tracecli.ingest.pipeline", "_insert_new", "INSERT of new records"),
    ("tracecli.ingest.pipeline", "_drop_duplicates", "duplicate check"),
    ("tracecli.ingest.pipeline", "_rows_of_ingest", "rows of the ingest"),
    ("tracecli.ingest.pricing", "price_missing", "pricing"),
    ("tracecli.store.rollup", "add", "cost roll-up"),
    ("tracecli.ingest.detached_content", "merge", "log-record content merge"),
    ("tracecli.store.summaries", "refresh", "trace summaries"),
    ("tracecli.ingest.pipeline", "_record_ingest", "record the ingest"),
    ("tracecli.ingest.pipeline", "_count_added", "count what was added"),
    ("tracecli.ingest.pipeline", "settle", "settle (checkpoint, finished_at, checkpoint)"),
    ("tracecli.read.cost", "totals", "cost totals (read.cost.totals)"),
    ("tracecli.read.listing", "list_traces", "trace listing (read.listing.list_traces)"),
    ("tracecli.render.output", "emit", "render (render.output.emit)"),
]


def fixed_cost_child(args: list[str]) -> None:
    """In-process: one tracecli command (`args`, as typed after `tracecli`) with perf_counter
    around its steps and a timer on every statement; prints the figures as JSON. Nothing in
    tracecli changes: its functions are wrapped where they are looked up."""
    import importlib

    clock = Clock()
    begin = time.perf_counter()
    with clock.step("import tracecli.cli.main (typer, click, the command modules)"):
        from tracecli.cli import main as cli_main
    with clock.step("import the command's core (duckdb, ingest, store, read, render)"):
        modules = {name: importlib.import_module(name) for name, _, _ in STEPS}
        importlib.import_module("tracecli.render.ingest")
        importlib.import_module("tracecli.cli.common")
    loaded = set(sys.modules)
    for name, attr, label in STEPS:
        if hasattr(modules[name], attr):
            clock.wrap(modules[name], attr, label)
    import duckdb

    connect = duckdb.connect
    setattr(duckdb, "connect", lambda *a, **k: TimedConnection(connect(*a, **k), clock))  # noqa: B010
    with clock.step("the command (app call)"):
        try:
            cli_main.app(args, prog_name="tracecli", standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
    end = time.perf_counter()
    setattr(duckdb, "connect", connect)  # noqa: B010
    late = sorted({m.split(".")[0] if not m.startswith("tracecli") else m
                   for m in set(sys.modules) - loaded})
    figures = {"steps": [(depth, path, clock.totals[path], clock.calls[path])
                         for depth, path in clock.order],
               "statements": {k: (len(v), sum(v)) for k, v in clock.statements.items()},
               "imported_during": late, "total": end - begin}
    figures["planning"] = plan_mappings(clock.mappings)  # after the figures: it opens a store
    print(json.dumps(figures))


def plan_mappings(mappings: list[tuple[str, Any]]) -> list[float]:
    """Seconds DuckDB takes to plan each file's mapping INSERT (EXPLAIN: bind, optimize and the
    physical plan, no execution), on a fresh in-memory store set up as an ingest sets it up."""
    from tracecli.ingest import redact
    from tracecli.ingest.formats import registry
    from tracecli.ingest.formats.base import ReadOptions
    from tracecli.store.connection import open_store

    con = open_store(":memory:")
    registry.install_macros(con, registry.READERS, ReadOptions())
    redact.install(con)
    out = []
    for sql, params in mappings:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            con.execute("EXPLAIN " + sql, params)
            times.append(time.perf_counter() - start)
        out.append(statistics.median(times))
    con.close()
    return out


def import_times(cmd: list[str]) -> tuple[float, list[tuple[str, float]]]:
    """`python -X importtime`: total import time and self time by top-level package."""
    proc = subprocess.run([PY, "-X", "importtime", *cmd], capture_output=True, text=True,
                          env=child_env(), check=False)
    by_package: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) < 3 or "self" in parts[0]:
            continue
        self_us = int(parts[0].split(":")[1])
        package = parts[2].strip().split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + self_us / 1e6
    return sum(by_package.values()), sorted(by_package.items(), key=lambda kv: -kv[1])


def bench_fixed(work: Path, runs: int, seed: int) -> None:
    """Where a small ingest's and a small read's time goes, by step, median of `runs` fresh
    processes each; printed as the README's table."""
    print("fixed cost per command (15-row sample, in-process timers)", flush=True)
    db, bare_db = work / "fixed.duckdb", work / "fixed_bare.duckdb"
    otlp = generate.ensure_otlp_small(seed)
    commands = [("ingest", ["ingest", str(SAMPLE), "--db", str(db), "-q"]),
                ("cost --from", ["cost", "--from", str(SAMPLE)]),
                (f"ingest the {generate.SMALL_SPANS}-span OTLP pair",
                 ["ingest", str(otlp), "--db", str(db), "-q"])]
    start_up = median_run([PY, "-c", "pass"], max(runs, 5))
    parts: list[dict[str, float]] = []
    for _ in range(runs):
        remove_db(bare_db)
        proc = subprocess.run([PY, "-c", BARE_PARTS, str(bare_db), str(SAMPLE)],
                              capture_output=True, text=True, env=child_env(), check=True)
        parts.append(json.loads(proc.stdout))
    remove_db(bare_db)
    lines = ["| step | " + " | ".join(f"{label} (ms)" for label, _ in commands) + " |",
             "|---|" + "---|" * len(commands),
             "| Python start-up (`python -c pass`, whole process) | "
             + " | ".join(f"{start_up.seconds * 1e3:.0f}" for _ in commands) + " |"]
    results = {}
    for label, args in commands:
        remove_db(db)
        total, packages = import_times(["-m", "tracecli", *args])
        remove_db(db)
        samples = []
        for _ in range(runs):
            remove_db(db)
            proc = subprocess.run([PY, __file__, "--fixed-cost", *args], capture_output=True,
                                  text=True, env=child_env(), check=False)
            if proc.returncode:
                print(f"    ! fixed-cost child failed: {proc.stderr.strip()[-300:]}", flush=True)
                return
            samples.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        whole = median_run([*tracecli_cmd(), *args], runs, lambda: remove_db(db))
        results[label] = (total, packages, samples, whole)
    remove_db(db)
    lines += _fixed_rows(results)
    base = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
    lines.append("")
    lines.append("Baseline, the same way (a fresh Python reading the sample into a store): "
                 + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in base.items())
                 + f"; start-up {start_up.seconds * 1e3:.0f} ms.")
    FIXED.append("\n".join(lines))
    print("\n".join(lines), flush=True)


def _fixed_rows(results: dict[str, Any]) -> list[str]:
    """The fixed-cost table's rows: imports by package, then each timed step (medians)."""
    labels = list(results)
    rows: list[str] = []
    totals = [f"{results[k][0] * 1e3:.0f}" for k in labels]
    rows.append(f"| imports, total (`python -X importtime`, self times summed) | {' | '.join(totals)} |")
    packages = [dict(results[k][1]) for k in labels]
    top = [p for p, _ in results[labels[0]][1][:8]]
    for package in top:
        rows.append(f"| &nbsp;&nbsp;{package} | "
                    + " | ".join(f"{p.get(package, 0.0) * 1e3:.0f}" for p in packages) + " |")
    names: list[tuple[int, str]] = []  # every command's steps, each after the one before it
    for k in labels:
        at = 0
        for depth, name, _, _ in results[k][2][0]["steps"]:
            if (depth, name) in names:
                at = names.index((depth, name)) + 1
                continue
            names.insert(at, (depth, name))
            at += 1

    def median_of(k: str, name: str) -> str:
        values = [next((s[2] for s in sample["steps"] if s[1] == name), None)
                  for sample in results[k][2]]
        known = [v for v in values if v is not None]
        calls = next((s[3] for s in results[k][2][0]["steps"] if s[1] == name), 0)
        if not known:
            return "-"
        return f"{statistics.median(known) * 1e3:.1f}" + (f" ({calls}x)" if calls > 1 else "")

    for depth, name in names:
        rows.append(f"| {'&nbsp;&nbsp;' * depth}{name.rsplit(' / ', 1)[-1]} | "
                    + " | ".join(median_of(k, name) for k in labels) + " |")
    for kind in ("CHECKPOINT", "COMMIT", "CREATE OR REPLACE TEMP MACRO"):
        cells = []
        for k in labels:
            found = [s["statements"].get(kind) for s in results[k][2]]
            known = [f for f in found if f]
            cells.append(f"{statistics.median(f[1] for f in known) * 1e3:.1f} ({known[0][0]}x)"
                         if known else "-")
        rows.append(f"| statements: {kind} (all of them) | {' | '.join(cells)} |")
    plans = [[p for s in results[k][2] for p in s["planning"]] for k in labels]
    rows.append("| planning one file's mapping INSERT (EXPLAIN, fresh store) | "
                + " | ".join(f"{statistics.median(p) * 1e3:.1f}" if p else "-" for p in plans)
                + " |")
    rows.append("| in-process total (imports to the command's return) | "
                + " | ".join(f"{statistics.median(s['total'] for s in results[k][2]) * 1e3:.0f}"
                             for k in labels) + " |")
    rows.append("| whole process (`tracecli …`, wall) | "
                + " | ".join(f"{results[k][3].seconds * 1e3:.0f}" for k in labels) + " |")
    late = sorted({m for k in labels for m in results[k][2][0]["imported_during"]})
    rows.append(f"| (modules first imported inside the command: {', '.join(late) or 'none'}) |"
                + " |" * len(labels))
    return rows


# ---------------------------------------------------------------- 1M-request ingest (issue 11)

def bench_ingest(jsonl: Path, work: Path, runs: int, n: int) -> tuple[Run, Path]:
    """JSONL ingest against bare DuckDB and Python+SQLite; leaves an ingested store behind."""
    size_gb = jsonl.stat().st_size / 1e9
    print(f"ingest {n:,} requests ({size_gb:.2f} GB JSONL)", flush=True)
    bare_db, store, lite = work / "bare.duckdb", work / "store.duckdb", work / "lite.sqlite"
    bare = median_run([PY, "-c", BARE_DUCKDB, str(jsonl), str(bare_db)], runs,
                      lambda: remove_db(bare_db))
    ours = median_run([*tracecli_cmd(), "ingest", str(jsonl), "--db", str(store), "-q"], runs,
                      lambda: remove_db(store))
    lite_run = median_run([PY, "-c", PY_SQLITE, str(jsonl), str(lite)], runs,
                          lambda: lite.unlink(missing_ok=True))
    record(f"ingest {n:,} requests JSONL", ours, "bare DuckDB read_json", bare, "<= 1.25x bare",
           1.25)
    speedup = lite_run.seconds / ours.seconds if ours.ok else 0.0
    record(f"ingest {n:,} requests vs Python+SQLite", ours, "json.loads+SQLite", lite_run,
           ">= 4x faster", None, ok=ours.ok and speedup >= 4)
    print(f"  peak RSS: tracecli {ours.rss_mb:,.0f} MB, bare DuckDB {bare.rss_mb:,.0f} MB, "
          f"Python+SQLite {lite_run.rss_mb:,.0f} MB; tracecli {n / ours.seconds:,.0f} rows/s, "
          f"{jsonl.stat().st_size / 1e6 / ours.seconds:,.0f} MB/s", flush=True)
    lite.unlink(missing_ok=True)
    return ours, store


def bench_reingest(jsonl: Path, store: Path, first: Run, runs: int) -> None:
    print("re-ingest the same file", flush=True)
    before = spans_in(store)
    again = median_run([*tracecli_cmd(), "ingest", str(jsonl), "--db", str(store), "-q"], runs)
    added = spans_in(store) - before
    record(f"re-ingest (added {added} rows)", again, "first ingest", first, "0 rows, <= 0.3x",
           None, ok=again.ok and added == 0 and again.seconds / first.seconds <= 0.3)


def bench_parquet(parquet: Path, work: Path, jsonl_run: Run, runs: int) -> None:
    print("Parquet ingest of the same requests", flush=True)
    db = work / "pq.duckdb"
    pq = median_run([*tracecli_cmd(), "ingest", str(parquet), "--db", str(db), "-q"], runs,
                    lambda: remove_db(db))
    record("ingest same requests as Parquet", pq, "JSONL ingest", jsonl_run, "<= 0.5x JSONL", 0.5)
    remove_db(db)


def bench_size(jsonl: Path, store: Path, work: Path, n: int) -> None:
    """tracecli's store against the same records with bodies kept as opaque JSON text."""
    import duckdb

    print("store size", flush=True)
    ours = store.stat().st_size / 1e6
    text_db, auto_db = work / "text.duckdb", work / "bare.duckdb"
    remove_db(text_db)
    con = duckdb.connect(str(text_db))
    con.execute("ATTACH ? AS s (READ_ONLY)", [str(store)])
    con.execute("CREATE TABLE spans AS SELECT * REPLACE (CAST(request AS VARCHAR) AS request, "
                "CAST(response AS VARCHAR) AS response) FROM s.spans")
    con.close()
    text = text_db.stat().st_size / 1e6
    auto = auto_db.stat().st_size / 1e6 if auto_db.exists() else 0.0
    limit = 100 * n / 1_000_000
    add_row(f"store size, {n:,} requests", f"{ours:,.0f} MB",
            f"same spans, bodies as JSON text {text:,.0f} MB", ours / text, f"<= {limit:,.0f} MB",
            ours <= limit)
    print(f"  (bare read_json auto-detected structs, no mapping: {auto:,.0f} MB; "
          f"JSONL file {jsonl.stat().st_size / 1e6:,.0f} MB)", flush=True)
    remove_db(text_db)


def bench_big(gb: float, work: Path) -> None:
    """Peak RSS ingesting a multi-GB JSONL file, against bare DuckDB on the same file."""
    per_row = 2500  # bytes per generated request, measured
    n = int(gb * 1e9 / per_row)
    jsonl, _ = generate.ensure(n, 7, parquet=False)
    size = jsonl.stat().st_size / 1e9
    print(f"big file: {size:.1f} GB, {n:,} requests", flush=True)
    db, bare_db = work / "big.duckdb", work / "bigbare.duckdb"
    remove_db(bare_db)
    bare = launch([PY, "-c", BARE_DUCKDB, str(jsonl), str(bare_db)])
    remove_db(bare_db)
    remove_db(db)
    ours = launch([*tracecli_cmd(), "ingest", str(jsonl), "--db", str(db), "-q"])
    remove_db(db)
    record(f"ingest {size:.1f} GB JSONL, peak RSS", ours, "bare DuckDB read_json", bare,
           "<= 2,048 MB", None, what="rss", ok=ours.ok and ours.rss_mb <= 2048)
    print(f"  time: tracecli {describe(ours)}, bare {describe(bare)}", flush=True)


# ---------------------------------------------------------------- stores of many spans

def build_store(store: Path, dest: Path, spans: int) -> None:
    """A store of `spans` spans made by replicating an ingested store with fresh ids and later
    times: exactly the rows ingest writes, K times over, without writing K files of JSONL."""
    import duckdb

    from tracecli.ingest import pipeline
    from tracecli.sql import macros
    from tracecli.store import rollup
    from tracecli.store.schema import trace_key_sql

    copy_db(store, dest)
    con = duckdb.connect(str(dest))
    macros.install(con)  # the roll-up below speaks the vocabulary
    base = con.execute("SELECT count(*), max(start_time) - min(start_time) FROM spans").fetchone()
    assert base is not None
    have, width = int(base[0]), base[1]
    copies = -(-spans // have)
    con.execute("SET preserve_insertion_order = true")
    for k in range(1, copies):
        shift = width * k + (width / 1000 if width else 0) * k
        tid = "'trc_' || substr(md5(trace_id || $k), 1, 16)"
        con.execute("BEGIN")
        con.execute(
            f"""INSERT INTO spans SELECT * REPLACE (record_key || '#' || $k AS record_key,
                   {tid} AS trace_id, span_id || '#' || $k AS span_id,
                   parent_span_id || '#' || $k AS parent_span_id,
                   start_time + $shift AS start_time, ingest_id + $n AS ingest_id)
                FROM spans WHERE ingest_id = 1""",  # noqa: S608 - benchmark-internal
            {"k": str(k), "n": k, "shift": shift})
        con.execute(
            f"""INSERT INTO trace_summary SELECT * REPLACE ({tid} AS trace_id,
                   start_time + $shift AS start_time, end_time + $shift AS end_time,
                   {trace_key_sql(tid)} AS trace_key)
                FROM trace_summary WHERE trace_id IN (SELECT trace_id FROM spans WHERE ingest_id = 1)""",  # noqa: S608
            {"k": str(k), "shift": shift})
        con.execute("INSERT INTO ingests SELECT * REPLACE (ingest_id + $k AS ingest_id) "
                    "FROM ingests WHERE ingest_id = 1", {"k": k})
        con.execute("COMMIT")
    con.execute("DELETE FROM cost_rollup")  # sums by day: made again from the shifted spans
    rollup.add(con)
    pipeline.settle(con, copies)  # as an ingest leaves the store
    con.close()


BUILT: dict[int, Path] = {}


def spans_store(store: Path, work: Path, spans: int) -> Path:
    """A store of about `spans` spans (built once per run, from the ingest section's store)."""
    if spans not in BUILT:
        big = work / f"big_{spans}.duckdb"
        print(f"building a {spans:,}-span store", flush=True)
        t = time.perf_counter()
        subprocess.run([PY, __file__, "--build-store", str(store), str(big), str(spans)],
                       check=True, env=child_env())
        print(f"  {spans_in(big):,} spans, {big.stat().st_size / 1e6:,.0f} MB, "
              f"built in {time.perf_counter() - t:.0f} s", flush=True)
        BUILT[spans] = big
    return BUILT[spans]


def label_of(total: int) -> str:
    return f"{total / 1e6:.0f}M spans" if total >= 1_000_000 else f"{total:,} spans"


def bench_store(store: Path, work: Path, spans: int, runs: int, seed: int) -> None:
    """Queries and a small append on a store of `spans` spans."""
    big = spans_store(store, work, spans)
    pick = query(big, "SELECT trace_id FROM trace_summary USING SAMPLE 1 ROWS")
    trace_id = pick[0] if pick else ""
    cli = tracecli_cmd()
    label = label_of(spans_in(big))
    queries = [
        (f"show <id> on {label}", [*cli, "show", trace_id, "--db", str(big)], 0.3,
         "SELECT * FROM spans WHERE trace_id = ?", [trace_id]),
        (f"traces --limit 50 on {label}", [*cli, "traces", "--limit", "50", "--db", str(big)], 0.5,
         "SELECT trace_id, min(start_time) t, sum(cost_usd) FROM spans GROUP BY 1 "
         "ORDER BY t DESC LIMIT 50", []),
        (f"cost --by model on {label}", [*cli, "cost", "--by", "model", "--db", str(big)], 0.5,
         "SELECT model, sum(cost_usd) FROM spans GROUP BY 1", []),
        (f"cost --by tag:env on {label}", [*cli, "cost", "--by", "tag:env", "--db", str(big)], 0.5,
         "SELECT metadata['env'], sum(cost_usd) FROM spans GROUP BY 1", []),
    ]
    for work_label, cmd, target, bare_sql, params in queries:
        ours = median_run(cmd, max(runs, 5))
        bare = median_run([PY, "-c", BARE_QUERY, str(big), bare_sql, *params], max(runs, 5))
        record(work_label, ours, "bare DuckDB over spans", bare, f"<= {target} s", None,
               ok=ours.ok and ours.seconds <= target)

    small, _ = generate.ensure(10_000, seed + 100, parquet=False)
    empty, appended = work / "empty.duckdb", work / "append.duckdb"
    into_big = median_run([*cli, "ingest", str(small), "--db", str(appended), "-q"], runs,
                          lambda: copy_db(big, appended))
    into_small = median_run([*cli, "ingest", str(small), "--db", str(appended), "-q"], runs,
                            lambda: copy_db(store, appended))
    into_empty = median_run([*cli, "ingest", str(small), "--db", str(empty), "-q"], runs,
                            lambda: remove_db(empty))
    small_spans = spans_in(store)
    # proportional to the 10k: the same append costs the same whatever the store holds
    record(f"append 10k requests to {label}", into_big, f"same into a {small_spans:,}-span store",
           into_small, "~1x (proportional to 10k)", 1.25)
    record(f"append 10k requests to {label}", into_big, "same into an empty store", into_empty,
           "(fixed cost of a store)", None)
    remove_db(appended)
    remove_db(empty)


def bench_stream(store: Path, work: Path, spans: int, runs: int) -> None:
    """`spans --format jsonl|csv --limit 0` over a big store: first line, peak RSS, and
    throughput against DuckDB's own COPY of the span table to the same format."""
    big = spans_store(store, work, spans)
    total = spans_in(big)
    label = label_of(total)
    out = work / "copy.out"
    for fmt, copy_options in (("jsonl", "FORMAT json"), ("csv", "FORMAT csv, HEADER")):
        print(f"spans --format {fmt} --limit 0 on {label}", flush=True)
        ours = median_run([*tracecli_cmd(), "spans", "--format", fmt, "--limit", "0", "--db",
                           str(big)], runs, read_stdout=True)
        copy = median_run([PY, "-c", BARE_COPY, str(big), str(out), copy_options], runs)
        out.unlink(missing_ok=True)
        work_label = f"spans --format {fmt} --limit 0 on {label}"
        first = ours.first_line
        add_row(f"{work_label}: first line", describe(ours, "first") if first is not None
                else describe(ours), "-", None, "<= 0.5 s",
                ours.ok and first is not None and first <= 0.5)
        record(f"{work_label}: peak RSS", ours, "DuckDB COPY TO", copy, "<= 300 MB", None,
               what="rss", ok=ours.ok and ours.rss_mb <= 300)
        ratio = copy.seconds / ours.seconds if ours.ok and copy.ok else None
        add_row(f"{work_label}: throughput",
                f"{total / ours.seconds:,.0f} spans/s ({describe(ours)})" if ours.ok
                else describe(ours),
                f"DuckDB COPY of the span table to {fmt} {total / copy.seconds:,.0f} spans/s "
                f"({describe(copy)})", ratio, ">= 0.5x COPY", ratio is not None and ratio >= 0.5)
        if ours.ok:
            print(f"  {ours.lines:,} lines, {ours.out_bytes / 1e6:,.0f} MB", flush=True)


def ingested(jsonl: Path, db: Path) -> Path | None:
    """A store holding `jsonl`, ingested untimed (None: the ingest failed)."""
    remove_db(db)
    print(f"ingesting {jsonl.name} into {db.name} (untimed)", flush=True)
    run = launch([*tracecli_cmd(), "ingest", str(jsonl), "--db", str(db), "-q"])
    return db if run.ok else None


def bench_tables(store: Path, runs: int) -> None:
    """`traces --limit 0` and `cost --by tag` as tables: all rows piped, and the first screen
    on a terminal (PAGER=cat, so that a pager shows it as it comes), against the same command
    writing jsonl."""
    cli = tracecli_cmd()
    for args, what in ((["traces", "--limit", "0"], "traces"), (["cost", "--by", "tag"], "groups")):
        cmd = [*cli, *args, "--db", str(store)]
        print(" ".join(args) + " as a table", flush=True)
        as_jsonl = median_run([*cmd, "--format", "jsonl"], runs, read_stdout=True)
        piped = median_run(cmd, runs, read_stdout=True)
        count = f"{as_jsonl.lines:,} {what}" if as_jsonl.ok else what
        record(f"{' '.join(args)} ({count}), table piped: all rows", piped,
               "same as jsonl", as_jsonl, "<= 3 s", None, ok=piped.ok and piped.seconds <= 3)
        screen = median_run(cmd, runs, screen=True)
        jsonl_first = replace(as_jsonl, seconds=as_jsonl.first_line or as_jsonl.seconds)
        record(f"{' '.join(args)} ({count}), table on a {SCREEN[0]}x{SCREEN[1]} terminal: "
               "first screen", screen, "jsonl's first line", jsonl_first, "<= 1 s", None,
               ok=screen.ok and screen.seconds <= 1)


# ---------------------------------------------------------------- folders, OTLP, limits

def bench_folder(work: Path, runs: int, seed: int, sizes: list[int]) -> None:
    """A folder of one-call LiteLLM JSON files against DuckDB's read_json over the same glob
    (schema auto-detected, one statement), and every record and cost checked in the store."""
    import duckdb

    cli = tracecli_cmd()
    db, bare_db = work / "folder.duckdb", work / "folder_bare.duckdb"
    for n in sizes:
        folder = generate.ensure_litellm_folder(n, seed)
        pattern = str(folder / "*" / "*" / "*.json")
        mb = size_mb(folder)
        print(f"folder of {n:,} LiteLLM files ({mb:.0f} MB)", flush=True)
        expected = duckdb.connect().execute(
            "SELECT count(*), sum(response_cost) FROM read_json($p, columns = "
            "{'response_cost': 'DOUBLE'})", {"p": pattern}).fetchone()
        assert expected is not None
        bare = median_run([PY, "-c", BARE_GLOB, pattern, str(bare_db), ""], runs,
                          lambda: remove_db(bare_db))
        remove_db(bare_db)
        union = launch([PY, "-c", BARE_GLOB, pattern, str(bare_db), ", union_by_name = true"])
        ours = median_run([*cli, "ingest", str(folder), "--db", str(db), "-q"], runs,
                          lambda: remove_db(db))
        check, right = "", False
        if ours.ok:
            got = query(db, "SELECT count(*), sum(cost_usd) FROM spans")
            right = got[0] == expected[0] and abs((got[1] or 0) - expected[1]) < 1e-9
            check = f"; {got[0]:,} of {expected[0]:,} calls stored, ${got[1] or 0:.4f} of " \
                    f"${expected[1]:.4f}"
        work_label = f"ingest a folder of {n:,} one-call LiteLLM files ({mb:.0f} MB)"
        ratio = ours.seconds / bare.seconds if ours.ok and bare.ok else None
        add_row(work_label, describe(ours) + check,
                f"DuckDB read_json over the glob {describe(bare)}", ratio,
                "<= 1.0x, every record stored, costs right",
                ratio is not None and ratio <= 1.0 and right)
        print(f"  (read_json with union_by_name = true: {describe(union)}; tracecli "
              f"{n / ours.seconds:,.0f} files/s, peak RSS {ours.rss_mb:,.0f} MB)", flush=True)
        remove_db(db)
        remove_db(bare_db)


def bench_otlp(work: Path, runs: int, seed: int, sizes: list[int]) -> None:
    """OTLP JSON files of OpenInference and GenAI spans against bare read_json of the same
    file: time and peak RSS."""
    cli = tracecli_cmd()
    db, bare_db = work / "otlp.duckdb", work / "otlp_bare.duckdb"
    for n in sizes:
        for convention, name in (("openinference", "OpenInference"), ("genai", "GenAI")):
            path = generate.ensure_otlp(n, seed, convention)
            mb = size_mb(path)
            print(f"OTLP {name}, {n:,} spans ({mb:.0f} MB)", flush=True)
            bare = median_run([PY, "-c", BARE_DUCKDB, str(path), str(bare_db)], runs,
                              lambda: remove_db(bare_db))
            ours = median_run([*cli, "ingest", str(path), "--db", str(db), "-q"], runs,
                              lambda: remove_db(db))
            work_label = f"ingest OTLP JSON, {n:,} {name} spans ({mb:.0f} MB)"
            record(work_label, ours, "bare DuckDB read_json", bare, "<= 2.0x", 2.0)
            record(f"{work_label}: peak RSS", ours, "bare DuckDB read_json", bare, "<= 1,024 MB",
                   None, what="rss", ok=ours.ok and ours.rss_mb <= 1024)
            if ours.ok:
                stored = spans_in(db)
                print(f"  {stored:,} spans stored; tracecli {n / ours.seconds:,.0f} spans/s",
                      flush=True)
            remove_db(db)
            remove_db(bare_db)


def bench_limits(work: Path, seed: int, gzip_gb: float, long_mb: float) -> None:
    """Peak RSS of ingests that must be refused: a gzip whose one line expands about 200x, and
    a JSONL line longer than the line limit; bare read_json of the same file beside each."""
    cli = tracecli_cmd()
    db, bare_db = work / "limits.duckdb", work / "limits_bare.duckdb"
    gz = generate.ensure_gzip_line(int(gzip_gb * 1e9))
    long_line = generate.ensure_long_line(int(long_mb * 1e6), seed)
    cases = [(gz, f"ingest a {gz.stat().st_size / 1e6:.1f} MB gzip expanding "
              f"{gzip_gb * 1e9 / gz.stat().st_size:.0f}x to one {gzip_gb:g} GB line", 0.0),
             (long_line, f"ingest a JSONL file with a {long_mb:,.0f} MB line "
              "(limit 256 MiB)", long_mb)]
    for path, work_label, line_mb in cases:
        print(work_label, flush=True)
        remove_db(db)
        ours = launch([*cli, "ingest", str(path), "--db", str(db), "-q"], expect_fail=True)
        remove_db(bare_db)
        bare = launch([PY, "-c", BARE_DUCKDB, str(path), str(bare_db)], expect_fail=True)
        small = not line_mb or ours.rss_mb < line_mb
        said = ours.stderr.replace(str(path), path.name)
        figure = describe(ours, "rss") + (f", refused: {replace(ours, stderr=said).message}"
                                          if ours.ok else "")
        add_row(f"{work_label}: peak RSS", figure,
                f"bare DuckDB read_json {bare.rss_mb:,.0f} MB ({'refused' if bare.ok else 'read'})",
                ours.rss_mb / bare.rss_mb if bare.rss_mb else None,
                "<= 2,048 MB, refused" + (" without reading the line into memory" if line_mb else ""),
                ours.ok and ours.rss_mb <= 2048 and small)
        remove_db(db)
        remove_db(bare_db)


# ---------------------------------------------------------------- output

def print_table() -> None:
    print("\n| work | tracecli | baseline (same run) | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for r in ROWS:
        met = "-" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"| {r.work} | {r.figure} | {r.baseline} | {r.ratio} | {r.target} | {met} |")
    for table in FIXED:
        print("\n" + table)


def sizes(text: str) -> list[int]:
    return [int(v.replace("_", "")) for v in text.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="requests in the ingest file")
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans in the query store")
    parser.add_argument("--stream-spans", type=int, default=1_000_000,
                        help="spans in the store the streamed listings read")
    parser.add_argument("--table-requests", type=int, default=100_000, help="requests behind "
                        "the table figures (100k: 25k traces, ~14k tag groups)")
    parser.add_argument("--folder-files", default="400,2000", help="folder sizes, comma-separated")
    parser.add_argument("--otlp-spans", default="13600", help="OTLP file sizes in spans")
    parser.add_argument("--gzip-gb", type=float, default=1.0, help="what the gzip's line expands to")
    parser.add_argument("--long-line-mb", type=float, default=600.0, help="the long line's size "
                        "(past 2 x 256 MiB: DuckDB takes lines up to twice maximum_object_size)")
    parser.add_argument("--big-gb", type=float, default=0.0, help="also ingest a file this big "
                        "(GB) and report peak RSS; 0 skips it")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--cap", type=float, default=LIMITS.cap,
                        help="stop a process after this many seconds (reported as stopped)")
    parser.add_argument("--slow", type=float, default=LIMITS.slow,
                        help="a figure whose run takes longer than this is that one run")
    parser.add_argument("--rss-guard-gb", type=float, default=LIMITS.guard_mb / 1024,
                        help="stop a process past this resident memory (the machine is shared)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--workdir", default=str(generate.DATA / "work"))
    parser.add_argument("--build-store", nargs=3, metavar=("FROM", "TO", "SPANS"),
                        help=argparse.SUPPRESS)  # internal: run by the store section
    parser.add_argument("--fixed-cost", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_store:
        build_store(Path(args.build_store[0]), Path(args.build_store[1]), int(args.build_store[2]))
        return
    if args.fixed_cost:
        fixed_cost_child(args.fixed_cost)
        return
    LIMITS.cap, LIMITS.slow, LIMITS.guard_mb = args.cap, args.slow, args.rss_guard_gb * 1024
    only = set(args.only.split(","))
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(work)
    load = os.getloadavg()
    print(f"tracecli benchmarks: {os.cpu_count()} cores, python {sys.version.split()[0]}, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)
    warm_up(work)

    if "help" in only:
        bench_help(args.runs)
    if "small" in only:
        bench_small(work, args.runs, args.seed)
    if "fixed" in only:
        bench_fixed(work, args.runs, args.seed)
    store: Path | None = None
    if only & {"ingest", "reingest", "parquet", "size", "store", "stream", "tables"}:
        jsonl, parquet = generate.ensure(args.n, args.seed)
    if only & {"ingest", "reingest", "parquet", "size"}:
        first, store = bench_ingest(jsonl, work, args.runs, args.n)
        store = store if first.ok else None
        if "size" in only and store:
            bench_size(jsonl, store, work, args.n)
        if "reingest" in only and store:
            bench_reingest(jsonl, store, first, args.runs)
        if "parquet" in only:
            bench_parquet(parquet, work, first, args.runs)
    if only & {"store", "stream"} or ("tables" in only and args.table_requests == args.n):
        store = store or ingested(jsonl, work / "store.duckdb")
    if "store" in only and store:
        bench_store(store, work, args.spans, args.runs, args.seed)
    if "stream" in only and store:
        bench_stream(store, work, args.stream_spans, args.runs)
    if "tables" in only:
        tables = store if args.table_requests == args.n else ingested(
            generate.ensure(args.table_requests, args.seed, parquet=False)[0],
            work / "tables.duckdb")
        if tables:
            bench_tables(tables, args.runs)
    if "folder" in only:
        bench_folder(work, args.runs, args.seed, sizes(args.folder_files))
    if "otlp" in only:
        bench_otlp(work, args.runs, args.seed, sizes(args.otlp_spans))
    if "limits" in only:
        bench_limits(work, args.seed, args.gzip_gb, args.long_line_mb)
    if "big" in only and args.big_gb:
        bench_big(args.big_gb, work)
    for db in BUILT.values():
        remove_db(db)
    print_table()


if __name__ == "__main__":
    main()
