"""Values no log should hold, through the real CLI: each ingests as unknown, or fails as bad
input naming where it is, and every command works afterwards (issue 12, round 2).

NaN and infinite numbers, numbers out of their column's range and times Python cannot hold
become NULL at ingest; a Parquet row of nulls is bad input like a `{}` line; an unreadable file
is bad input (set aside by --skip-bad); a file whose name holds glob characters is read as
itself. Never a traceback, never "internal error"."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REFERENCE_TRACE, SAMPLE_JSONL, Invoke, sample_rows

READS = (["traces"], ["traces", "--format", "json"], ["show", REFERENCE_TRACE],
         ["show", REFERENCE_TRACE, "--format", "json"], ["cost", "--by", "model"],
         ["cost", "--by", "tag"], ["cost", "--by", "day"], ["cost", "--by", "model", "--format", "json"],
         ["replay", REFERENCE_TRACE, "--speed", "0"], ["spans", "--format", "jsonl"])


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def snapshot(db: Path) -> tuple[Any, ...]:
    """What a failed ingest must leave as it was (nothing, for a store never written)."""
    if not db.exists():
        return ([], [])
    return tuple(query(db, sql) for sql in (
        "SELECT record_key, trace_id, ingest_id FROM spans ORDER BY ALL",
        "SELECT ingest_id, records, spans_added FROM ingests ORDER BY ALL"))


def strict_json(text: str) -> Any:
    """JSON as a CI script's parser reads it: NaN and Infinity are not JSON."""
    def reject(name: str) -> Any:
        raise AssertionError(f"{name} in JSON output")
    return json.loads(text, parse_constant=reject)


def every_read_works(cli: Invoke) -> None:
    """Every listing over the store exits 0, prints no NaN or infinity, and its JSON parses."""
    for args in READS:
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
        assert "internal error" not in result.stderr and "Traceback" not in result.output
        assert "$inf" not in result.stdout and "$nan" not in result.stdout, (args, result.stdout)
        if "json" in args:
            strict_json(result.stdout)
        if "jsonl" in args:
            for line in result.stdout.splitlines():
                strict_json(line)


def fails_as_bad_input(cli: Invoke, db: Path, *args: str, expected: str) -> str:
    before = snapshot(db)
    result = cli("ingest", *args)
    assert result.exit_code == 3, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tracecli: error: ")
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    assert "--rejects" not in result.stderr
    assert snapshot(db) == before
    return result.stderr


def reference_rows() -> list[dict[str, Any]]:
    return [r for r in sample_rows() if r["trace_id"] == REFERENCE_TRACE]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def with_literal(row: dict[str, Any], field: str, literal: str) -> str:
    """A JSONL line with `field` set to `literal`, written as is (`NaN`, `1e400`, …)."""
    return json.dumps({**row, field: "@@"}).replace('"@@"', literal)


# --- 1. NaN and infinite numbers ---------------------------------------------------------


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", '"NaN"', '"inf"'])
@pytest.mark.parametrize("field", ["cost", "response_time", "req_units", "response_status_code"])
def test_non_finite_number_is_unknown(cli, isolated_store, tmp_path, field, literal) -> None:
    rows = reference_rows()
    path = write_jsonl(tmp_path / "odd.jsonl",
                       [with_literal(rows[0], field, literal), *map(json.dumps, rows[1:])])
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.output
    column = {"cost": "cost_usd", "response_time": "duration_ms", "req_units": "prompt_tokens",
              "response_status_code": "http_status"}[field]
    value, others = query(isolated_store, f"SELECT {column}, model FROM spans WHERE record_key = "
                          f"'portkey:{rows[0]['id']}'")[0]
    # unknown, or known from elsewhere (the cost priced, the tokens from the response's usage)
    assert value is None or math.isfinite(value), value
    assert others == rows[0]["ai_model"]  # the record keeps its other fields
    every_read_works(cli)


def test_non_finite_cost_in_parquet_is_unknown(cli, isolated_store, tmp_path) -> None:
    rows = reference_rows()
    costs = [float("nan"), float("inf"), -float("inf"), rows[3]["cost"]]
    table = pa.table({
        "id": [r["id"] for r in rows], "trace_id": [r["trace_id"] for r in rows],
        "created_at": [r["created_at"] for r in rows], "ai_org": [r["ai_org"] for r in rows],
        "ai_model": [r["ai_model"] for r in rows], "req_units": [r["req_units"] for r in rows],
        "res_units": [r["res_units"] for r in rows], "cost": costs,
        "response_time": [float("nan"), *(float(r["response_time"]) for r in rows[1:])],
    })
    path = tmp_path / "costs.parquet"
    pq.write_table(table, path)
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.output
    assert query(isolated_store, "SELECT count(*) FROM spans WHERE NOT isfinite(cost_usd) "
                 "OR NOT isfinite(duration_ms)") == [(0,)]
    assert query(isolated_store, "SELECT count(*) FROM spans WHERE cost_source = 'logged'") == [(1,)]
    every_read_works(cli)


def test_non_finite_values_in_an_older_store_are_shown_as_unknown(cli, isolated_store) -> None:
    """A store ingested before NaN was dropped may hold it: every number formatter copes."""
    assert cli("ingest", str(SAMPLE_JSONL)).exit_code == 0
    with duckdb.connect(str(isolated_store)) as con:
        for table, columns in (("spans", ("cost_usd", "duration_ms")),
                               ("trace_summary", ("cost_usd", "duration_ms")),
                               ("cost_rollup", ("cost_usd",))):
            for column, value in zip(columns, ("NaN", "Infinity"), strict=False):
                con.execute(f"UPDATE {table} SET {column} = '{value}'::DOUBLE")
    every_read_works(cli)
    shown = cli("show", REFERENCE_TRACE).stdout
    assert "—" in shown.splitlines()[0]
    assert "—" in cli("cost", "--by", "model").stdout


# --- 2. times Python's datetime cannot hold ------------------------------------------------


@pytest.mark.parametrize("created_at", ['"0000-01-01T00:00:00Z"', '"294247-01-01T00:00:00Z"',
                                        '"-5000-03-04T10:15:02Z"', "1e300", "-1e300", '"NaN"'])
def test_impossible_time_is_unknown(cli, isolated_store, tmp_path, created_at) -> None:
    rows = reference_rows()
    path = write_jsonl(tmp_path / "year0.jsonl",
                       [with_literal(rows[0], "created_at", created_at), *map(json.dumps, rows[1:])])
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.output
    start, model, tokens = query(isolated_store, "SELECT start_time, model, total_tokens FROM spans "
                                 f"WHERE record_key = 'portkey:{rows[0]['id']}'")[0]
    assert start is None and model == rows[0]["ai_model"] and tokens == rows[0]["total_units"]
    every_read_works(cli)
    assert "(BC)" not in cli("show", REFERENCE_TRACE).stdout


# --- 3. a Parquet row of nulls -------------------------------------------------------------


def _portkey_parquet(path: Path, rows: list[dict[str, Any] | None]) -> Path:
    """Portkey rows as Parquet; None is a row whose every column is null."""
    keys = ("id", "trace_id", "created_at", "ai_org", "ai_model", "response_time", "req_units")
    pq.write_table(pa.table({k: [r[k] if r else None for r in rows] for k in keys}), path)
    return path


def test_parquet_row_of_nulls_is_bad_input(cli, isolated_store, tmp_path) -> None:
    rows = reference_rows()
    path = _portkey_parquet(tmp_path / "nulls.parquet", [rows[0], rows[1], None, rows[2], None])
    fails_as_bad_input(cli, isolated_store, str(path),
                       expected="nulls.parquet: row 3: cannot detect the log format")
    result = cli("ingest", "--skip-bad", str(path))
    assert result.exit_code == 0, result.output
    assert "skipped 2 bad record(s)" in result.stderr
    assert "nulls.parquet: row 3: cannot detect the log format" in result.stderr
    assert "nulls.parquet: row 5: cannot detect the log format" in result.stderr
    assert query(isolated_store, "SELECT count(*) FROM spans") == [(3,)]
    phantom = hashlib.md5(b"").hexdigest()
    assert query(isolated_store, f"SELECT count(*) FROM spans WHERE trace_id = '{phantom}'") == [(0,)]


def test_json_array_element_with_no_fields_is_named(cli, isolated_store, tmp_path) -> None:
    rows = reference_rows()
    path = tmp_path / "array.json"
    path.write_text(json.dumps([rows[0], {}, rows[1]]))
    fails_as_bad_input(cli, isolated_store, str(path), expected="array.json: element 2: cannot detect the log format")
    result = cli("ingest", "--skip-bad", str(path))
    assert result.exit_code == 0 and "skipped 1 bad record(s)" in result.stderr, result.output
    assert "array.json: element 2: cannot detect the log format" in result.stderr


# --- 4. integers out of their column's range -----------------------------------------------


@pytest.mark.parametrize("field, column", [("response_status_code", "http_status"),
                                           ("retry_success_count", "retries"),
                                           ("req_units", "prompt_tokens"),
                                           ("total_units", "total_tokens")])
@pytest.mark.parametrize("skip_bad", [False, True])
def test_out_of_range_integer_is_unknown(cli, isolated_store, tmp_path, field, column,
                                         skip_bad) -> None:
    rows = reference_rows()
    rows[1] = {**rows[1], field: 1e12 if column in ("http_status", "retries") else 9e18}
    rows[2] = {**rows[2], field: 9e18}  # two of them: their sums would overflow BIGINT
    path = write_jsonl(tmp_path / "big.jsonl", list(map(json.dumps, rows)))
    result = cli("ingest", *(["--skip-bad"] if skip_bad else []), str(path))
    assert result.exit_code == 0, result.output
    assert "skipped 0" in result.stderr
    stored = dict(query(isolated_store, f"SELECT record_key, {column} FROM spans"))
    for row in rows[1:3]:  # unknown; tokens may be known from the response's usage instead
        value = stored[f"portkey:{row['id']}"]
        assert value is None if column in ("http_status", "retries") else value != row[field]
    assert stored[f"portkey:{rows[0]['id']}"] is not None
    every_read_works(cli)


def _mixed(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """valid, garbage, valid, {}, status 1e12, valid."""
    rows = sample_rows()[:4]
    lines = [json.dumps(rows[0]), "garbage {", json.dumps(rows[1]), "{}",
             json.dumps({**rows[2], "response_status_code": 1e12}), json.dumps(rows[3])]
    return write_jsonl(tmp_path / "mixed.jsonl", lines), rows


def test_mixed_file_fails_on_its_first_bad_line(cli, isolated_store, tmp_path) -> None:
    path, _ = _mixed(tmp_path)
    fails_as_bad_input(cli, isolated_store, str(path), expected="mixed.jsonl:2: not valid JSON")


def test_mixed_file_keeps_every_good_line_with_skip_bad(cli, isolated_store, tmp_path) -> None:
    path, rows = _mixed(tmp_path)
    rejects = tmp_path / "rejects.jsonl"
    result = cli("ingest", "--skip-bad", "--rejects", str(rejects), str(path))
    assert result.exit_code == 0, result.output
    assert "skipped 2 bad record(s)" in result.stderr
    assert "mixed.jsonl:2: not valid JSON" in result.stderr
    assert "mixed.jsonl:4: cannot detect the log format" in result.stderr
    assert rejects.read_text() == "garbage {\n{}\n"
    stored = dict(query(isolated_store, "SELECT record_key, http_status FROM spans"))
    assert sorted(stored) == sorted(f"portkey:{r['id']}" for r in rows)
    assert stored[f"portkey:{rows[2]['id']}"] is None
    assert stored[f"portkey:{rows[0]['id']}"] == rows[0]["response_status_code"]


# --- 5. unreadable inputs, the rejects file, stdin ---------------------------------------


def _unreadable(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.jsonl"
    if kind == "no-permission":
        if os.geteuid() == 0:
            pytest.skip("as root, permission bits do not stop a read (the other kinds still run)")
        shutil.copyfile(SAMPLE_JSONL, path)
        path.chmod(0)
    elif kind == "read-fails":
        if not Path("/proc/self/mem").exists():
            pytest.skip("needs /proc/self/mem, a file whose read fails (EIO) even for root")
        path.symlink_to("/proc/self/mem")
    else:
        os.mkfifo(path)  # a read would wait for a writer forever
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions, /proc and FIFOs")
@pytest.mark.parametrize("kind", ["no-permission", "read-fails", "fifo"])
def test_unreadable_file_is_bad_input(cli, isolated_store, tmp_path, kind) -> None:
    path = _unreadable(kind, tmp_path)
    fails_as_bad_input(cli, isolated_store, str(path), str(SAMPLE_JSONL),
                       expected=f"{path.name}: cannot read: ")
    result = cli("ingest", "--skip-bad", str(path), str(SAMPLE_JSONL))
    assert result.exit_code == 0, result.output
    assert "skipped 1 unreadable file(s)" in result.stderr
    assert f"{path.name}: file skipped: cannot read: " in result.stderr
    assert query(isolated_store, "SELECT count(*) FROM spans") == [(len(sample_rows()),)]


def test_rejects_file_that_cannot_be_opened_is_named(cli, isolated_store, tmp_path) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", ["garbage", *map(json.dumps, reference_rows())])
    result = cli("ingest", "--skip-bad", "--rejects", str(tmp_path / "no" / "dir.jsonl"), str(bad))
    assert result.exit_code == 1
    assert result.stderr == f"tracecli: error: --rejects {tmp_path / 'no' / 'dir.jsonl'}: No such file or directory\n"
    assert snapshot(isolated_store) == ([], [])


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is full)")
def test_rejects_file_on_a_full_disk_stops_the_ingest_before_it_lands(cli, isolated_store,
                                                                      tmp_path) -> None:
    bad = write_jsonl(tmp_path / "bad.jsonl", ["garbage", *map(json.dumps, reference_rows())])
    result = cli("ingest", "--skip-bad", "--rejects", "/dev/full", str(bad))
    assert result.exit_code == 1
    assert result.stderr == "tracecli: error: --rejects /dev/full: No space left on device\n"
    assert not isolated_store.exists() or query(isolated_store, "SELECT count(*) FROM spans") == [(0,)]


def test_full_disk_while_stdin_is_spooled(cli, isolated_store, monkeypatch) -> None:
    assert cli("ingest", str(SAMPLE_JSONL)).exit_code == 0
    before = snapshot(isolated_store)

    def full(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfileobj", full)
    result = cli("ingest", "-", input=SAMPLE_JSONL.read_bytes())
    assert result.exit_code == 1
    assert result.stderr == "tracecli: error: cannot spool stdin: No space left on device\n"
    assert snapshot(isolated_store) == before


# --- 15. a path that exists is a path --------------------------------------------------------


def test_file_named_like_a_glob_is_read_as_itself(cli, isolated_store, tmp_path) -> None:
    rows = sample_rows()
    odd = write_jsonl(tmp_path / "glob[*]'x.jsonl", [json.dumps(rows[0])])
    result = cli("ingest", str(odd))
    assert result.exit_code == 0, result.output
    assert query(isolated_store, "SELECT record_key, source_file FROM spans") == [
        (f"portkey:{rows[0]['id']}", str(odd))]


def test_glob_characters_never_reach_the_engine_as_a_pattern(cli, isolated_store, tmp_path) -> None:
    """`log[1].jsonl` read by DuckDB as a pattern would be `log1.jsonl`; `a*.jsonl` every a-file."""
    rows = sample_rows()
    write_jsonl(tmp_path / "log[1].jsonl", [json.dumps(rows[0])])
    write_jsonl(tmp_path / "log1.jsonl", [json.dumps(rows[1])])
    write_jsonl(tmp_path / "a*.jsonl", [json.dumps(rows[2])])
    for name, row in (("log[1].jsonl", rows[0]), ("a*.jsonl", rows[2])):
        isolated_store.unlink(missing_ok=True)
        result = cli("ingest", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert query(isolated_store, "SELECT record_key FROM spans") == [(f"portkey:{row['id']}",)]
    isolated_store.unlink()
    result = cli("ingest", str(tmp_path))  # found by the directory scan: the same holds
    assert result.exit_code == 0, result.output
    assert query(isolated_store, "SELECT count(*) FROM spans") == [(3,)]
    isolated_store.unlink()
    result = cli("ingest", str(tmp_path / "log?.jsonl"))  # no such file: still a pattern
    assert result.exit_code == 0, result.output
    assert query(isolated_store, "SELECT count(*) FROM spans") == [(1,)]
