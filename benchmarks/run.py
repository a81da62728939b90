"""Time tracecli against its baselines, in the same run on the same files, and print the ratios.

Every figure is a whole process (start-up included): wall time and peak RSS of a child process,
median of --runs runs. Quick run (~3 min):

    python benchmarks/run.py --n 100000 --spans 1000000

Full size (the issue's table; ~40 min, ~20 GB of disk under benchmarks/data):

    python benchmarks/run.py --n 1000000 --spans 10000000 --big-gb 5

Sections can be picked with --only (ingest, reingest, parquet, size, big, store, help).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (benchmarks/generate.py)

PY = sys.executable
SECTIONS = ("help", "ingest", "reingest", "parquet", "size", "store", "big")

BARE_DUCKDB = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?)", [sys.argv[1]])
con.close()
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


@dataclass
class Run:
    seconds: float
    rss_mb: float


@dataclass
class Row:
    work: str
    figure: str
    baseline: str
    ratio: str
    target: str
    ok: bool | None


ROWS: list[Row] = []


def tracecli_cmd() -> list[str]:
    exe = shutil.which("tracecli")
    return [exe] if exe else [PY, "-m", "tracecli"]


def run_once(cmd: list[str], before: Callable[[], None] | None = None) -> Run:
    """Wall time and peak RSS of one child process; fails loudly if it fails.

    Peak RSS comes from /usr/bin/time: a child's own rusage starts from its parent's high-water
    mark at exec on Linux, so it would report this runner's size instead."""
    if before:
        before()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n"
                             f"{proc.stderr.decode(errors='replace')}")
        kb = int(rss.read().split()[-1])
    return Run(seconds, kb / 1024)


def median_run(cmd: list[str], runs: int, before: Callable[[], None] | None = None) -> Run:
    results = [run_once(cmd, before) for _ in range(runs)]
    return Run(statistics.median(r.seconds for r in results),
               statistics.median(r.rss_mb for r in results))


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


def record(work: str, figure: float, unit: str, base_label: str, base: float, target: str,
           ok: bool | None, ratio: float | None = None) -> None:
    ratio = figure / base if ratio is None and base else ratio
    fmt = (lambda v: f"{v:.3f} s") if unit == "s" else (lambda v: f"{v:,.0f} {unit}")
    ROWS.append(Row(work, fmt(figure), f"{base_label} {fmt(base)}",
                    f"{ratio:.2f}x" if ratio is not None else "-", target, ok))
    print(f"  {work}: {fmt(figure)} vs {base_label} {fmt(base)}"
          + (f" = {ratio:.2f}x" if ratio is not None else ""), flush=True)


def spans_in(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM spans").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def bench_help(runs: int) -> None:
    print("--help start-up", flush=True)
    base = median_run([PY, "-c", "pass"], max(runs, 5))
    cli = median_run([*tracecli_cmd(), "--help"], max(runs, 5))
    record("tracecli --help", cli.seconds, "s", "python -c pass", base.seconds,
           "<= 0.150 s", cli.seconds <= 0.150, ratio=cli.seconds / base.seconds)


def bench_ingest(jsonl: Path, work: Path, runs: int, n: int) -> tuple[float, Path]:
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
    ratio = ours.seconds / bare.seconds
    record(f"ingest {n:,} requests JSONL", ours.seconds, "s", "bare DuckDB read_json",
           bare.seconds, "<= 1.25x bare", ratio <= 1.25)
    speedup = lite_run.seconds / ours.seconds
    record(f"ingest {n:,} requests vs Python+SQLite", ours.seconds, "s", "json.loads+SQLite",
           lite_run.seconds, ">= 4x faster", speedup >= 4, ratio=ours.seconds / lite_run.seconds)
    print(f"  peak RSS: tracecli {ours.rss_mb:,.0f} MB, bare DuckDB {bare.rss_mb:,.0f} MB, "
          f"Python+SQLite {lite_run.rss_mb:,.0f} MB; tracecli {n / ours.seconds:,.0f} rows/s, "
          f"{jsonl.stat().st_size / 1e6 / ours.seconds:,.0f} MB/s", flush=True)
    lite.unlink(missing_ok=True)
    return ours.seconds, store


def bench_reingest(jsonl: Path, store: Path, first: float, runs: int) -> None:
    print("re-ingest the same file", flush=True)
    before = spans_in(store)
    again = median_run([*tracecli_cmd(), "ingest", str(jsonl), "--db", str(store), "-q"], runs)
    added = spans_in(store) - before
    record(f"re-ingest (added {added} rows)", again.seconds, "s", "first ingest", first,
           "0 rows, <= 0.3x", added == 0 and again.seconds / first <= 0.3)


def bench_parquet(parquet: Path, work: Path, jsonl_seconds: float, runs: int) -> None:
    print("Parquet ingest of the same requests", flush=True)
    db = work / "pq.duckdb"
    pq = median_run([*tracecli_cmd(), "ingest", str(parquet), "--db", str(db), "-q"], runs,
                    lambda: remove_db(db))
    record("ingest same requests as Parquet", pq.seconds, "s", "JSONL ingest", jsonl_seconds,
           "<= 0.5x JSONL", pq.seconds / jsonl_seconds <= 0.5)
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
    record(f"store size, {n:,} requests", ours, "MB", "same spans, bodies as JSON text", text,
           f"<= {limit:,.0f} MB", ours <= limit)
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
    bare = run_once([PY, "-c", BARE_DUCKDB, str(jsonl), str(bare_db)])
    remove_db(bare_db)
    remove_db(db)
    ours = run_once([*tracecli_cmd(), "ingest", str(jsonl), "--db", str(db), "-q"])
    remove_db(db)
    record(f"ingest {size:.1f} GB JSONL, peak RSS", ours.rss_mb, "MB",
           "bare DuckDB read_json", bare.rss_mb, "<= 2,048 MB", ours.rss_mb <= 2048)
    print(f"  time: tracecli {ours.seconds:.1f} s, bare {bare.seconds:.1f} s", flush=True)


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


def bench_store(store: Path, work: Path, spans: int, runs: int, seed: int) -> None:
    """Queries and a small append on a store of `spans` spans."""
    import duckdb

    big = work / f"big_{spans}.duckdb"
    print(f"building a {spans:,}-span store", flush=True)
    t = time.perf_counter()
    subprocess.run([PY, __file__, "--build-store", str(store), str(big), str(spans)], check=True)
    con = duckdb.connect(str(big), read_only=True)
    row = con.execute("SELECT count(*) FROM spans").fetchone()
    pick = con.execute("SELECT trace_id FROM trace_summary USING SAMPLE 1 ROWS").fetchone()
    con.close()
    total = int(row[0]) if row else 0
    trace_id = pick[0] if pick else ""
    print(f"  {total:,} spans, {big.stat().st_size / 1e6:,.0f} MB, "
          f"built in {time.perf_counter() - t:.0f} s", flush=True)
    cli = tracecli_cmd()
    label = f"{total / 1e6:.0f}M spans" if total >= 1_000_000 else f"{total:,} spans"
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
        record(work_label, ours.seconds, "s", "bare DuckDB over spans", bare.seconds,
               f"<= {target} s", ours.seconds <= target)

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
    record(f"append 10k requests to {label}", into_big.seconds, "s",
           f"same into a {small_spans:,}-span store", into_small.seconds,
           "~1x (proportional to 10k)", into_big.seconds / into_small.seconds <= 1.25)
    record(f"append 10k requests to {label}", into_big.seconds, "s", "same into an empty store",
           into_empty.seconds, "(fixed cost of a store)", None)
    remove_db(appended)
    remove_db(empty)


def print_table() -> None:
    print("\n| work | tracecli | baseline (same run) | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for r in ROWS:
        met = "-" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"| {r.work} | {r.figure} | {r.baseline} | {r.ratio} | {r.target} | {met} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="requests in the ingest file")
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans in the query store")
    parser.add_argument("--big-gb", type=float, default=0.0, help="also ingest a file this big "
                        "(GB) and report peak RSS; 0 skips it")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--workdir", default=str(generate.DATA / "work"))
    parser.add_argument("--build-store", nargs=3, metavar=("FROM", "TO", "SPANS"),
                        help=argparse.SUPPRESS)  # internal: run by the store section
    args = parser.parse_args()
    if args.build_store:
        build_store(Path(args.build_store[0]), Path(args.build_store[1]), int(args.build_store[2]))
        return
    only = set(args.only.split(","))
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(work)
    print(f"tracecli benchmarks: {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)

    if "help" in only:
        bench_help(args.runs)
    jsonl, parquet = generate.ensure(args.n, args.seed)
    store = work / "store.duckdb"
    first = 0.0
    if only & {"ingest", "reingest", "parquet", "size", "store"}:
        first, store = bench_ingest(jsonl, work, args.runs, args.n)
    if "size" in only:
        bench_size(jsonl, store, work, args.n)
    if "reingest" in only:
        bench_reingest(jsonl, store, first, args.runs)
    if "parquet" in only:
        bench_parquet(parquet, work, first, args.runs)
    if "store" in only:
        bench_store(store, work, args.spans, args.runs, args.seed)
    if "big" in only and args.big_gb:
        bench_big(args.big_gb, work)
    print_table()


if __name__ == "__main__":
    main()
