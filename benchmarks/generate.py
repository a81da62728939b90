"""Synthetic Portkey log exports for the benchmarks: N requests, JSONL and Parquet, by seed.

Every trace is the sample's reference agent run (sample_logs/generate.py `agent_run`: four chat
calls, three tool round trips) with its model, tags, user, timing and ids varied, some cache
hits, retries, and failed final calls. Rows come out in time order, as an export has them.

    python benchmarks/generate.py --n 100000 --seed 1          # benchmarks/data/portkey_100000_s1.*
    python benchmarks/generate.py --n 2200000 --no-parquet     # a ~5 GB JSONL file
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DATA = HERE / "data"


def _sample_module():  # type: ignore[no-untyped-def]
    """sample_logs/generate.py, loaded by path (it shares this module's name)."""
    spec = importlib.util.spec_from_file_location("sample_generate",
                                                  HERE.parent / "sample_logs" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


agent_run = _sample_module().agent_run

CALLS_PER_TRACE = 4
MODELS = [("gpt-4o-mini", 60), ("gpt-4o", 25), ("claude-3-5-sonnet-20241022", 15)]
ENVS = [("prod", 70), ("staging", 20), ("dev", 10)]
FEATURES = ["math-agent", "support-bot", "triage", "summaries", "code-review"]
WORDS = ("invoice refund login latency cache region billing export quota deploy rollback "
         "ticket webhook schema retry timeout").split()
START = datetime(2025, 3, 1, tzinfo=UTC)
SPAN = timedelta(days=30)  # the whole file covers a month of traffic
RATE_LIMIT = {"error": {"message": "Rate limit reached for requests", "type": "requests",
                        "param": None, "code": "rate_limit_exceeded"}}
SERVER_ERROR = {"error": {"message": "The server had an error while processing your request.",
                          "type": "server_error", "param": None, "code": None}}


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _fail(row: dict[str, Any], rng: random.Random) -> None:
    """Turn a successful call into a provider error, as Portkey logs one."""
    status = rng.choice([429, 500])
    row.update(is_success=False, response_status_code=status, res_units=0,
               total_units=row["req_units"], cost=0.0,
               response=RATE_LIMIT if status == 429 else SERVER_ERROR)


def traces(n_requests: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Agent runs of four calls each until n_requests rows (the last run may be cut short)."""
    rng = random.Random(seed)
    n_traces = -(-n_requests // CALLS_PER_TRACE)
    step = SPAN / max(n_traces, 1)
    left = n_requests
    for i in range(n_traces):
        model = _weighted(rng, MODELS)
        meta = {"env": _weighted(rng, ENVS), "feature": rng.choice(FEATURES),
                "_user": f"u_{rng.randrange(20000)}"}
        roll = rng.random()
        rows = agent_run(
            f"trc_{rng.getrandbits(64):016x}", START + step * i + timedelta(seconds=rng.random()),
            model, meta, prefix=f"s{seed}x{i:x}",
            cache_call=rng.randrange(1, 5) if roll < 0.10 else None,
            retry_call=rng.randrange(1, 5) if 0.10 <= roll < 0.15 else None,
            retries=rng.randrange(1, 4))
        note = " ".join(rng.choice(WORDS) for _ in range(6))  # per-trace text, as users vary
        for row in rows:
            row["request"]["messages"][1]["content"] += f" (context: {note})"
        if rng.random() < 0.03:
            _fail(rows[-1], rng)
        yield rows[:left]
        left -= len(rows[:left])


def write_jsonl(path: Path, n_requests: int, seed: int) -> int:
    with open(path, "w", encoding="utf-8") as fh:
        for rows in traces(n_requests, seed):
            fh.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return path.stat().st_size


def write_parquet(path: Path, n_requests: int, seed: int, chunk: int = 50_000) -> int:
    """The same rows; bodies and metadata as JSON text columns, like the sample's Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    buf: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal writer
        table = pa.Table.from_pylist(buf, schema=writer.schema if writer else None)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
        buf.clear()

    for rows in traces(n_requests, seed):
        buf.extend({k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in r.items()}
                   for r in rows)
        if len(buf) >= chunk:
            flush()
    if buf:
        flush()
    if writer:
        writer.close()
    return path.stat().st_size


def paths(n_requests: int, seed: int) -> tuple[Path, Path]:
    stem = DATA / f"portkey_{n_requests}_s{seed}"
    return stem.with_suffix(".jsonl"), stem.with_suffix(".parquet")


def ensure(n_requests: int, seed: int, parquet: bool = True) -> tuple[Path, Path]:
    """Write the files unless present (same n and seed give the same bytes)."""
    DATA.mkdir(parents=True, exist_ok=True)
    jsonl, pq_path = paths(n_requests, seed)
    if not jsonl.exists():
        tmp = jsonl.with_suffix(".jsonl.part")
        write_jsonl(tmp, n_requests, seed)
        tmp.rename(jsonl)
    if parquet and not pq_path.exists():
        tmp = pq_path.with_suffix(".parquet.part")
        write_parquet(tmp, n_requests, seed)
        tmp.rename(pq_path)
    return jsonl, pq_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="requests (log rows)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-parquet", action="store_true")
    args = parser.parse_args()
    jsonl, pq_path = ensure(args.n, args.seed, parquet=not args.no_parquet)
    print(jsonl, f"{jsonl.stat().st_size / 1e6:.0f} MB")
    if pq_path.exists():
        print(pq_path, f"{pq_path.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
