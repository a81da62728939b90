"""`tracecli store` says what the store holds, and read commands never create a store: a missing
one is not found (4), a file that is no tracecli store is bad input (3), an empty one answers
with a header and a hint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import REFERENCE_TRACE, ROOT, SAMPLE_JSONL, SAMPLES, Invoke, Stored
from tracecli.store.schema import SCHEMA_VERSION

OTLP = ROOT / "tests" / "fixtures" / "formats" / "otlp" / "genai_traces.jsonl"


def test_store_figures_match_the_store(cli: Invoke, stored: Stored, isolated_store: Path) -> None:
    stored(str(SAMPLES), str(OTLP))
    result = cli("store", "--format", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    with duckdb.connect(str(isolated_store), read_only=True) as con:
        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]

        formats = dict(con.execute("SELECT source_format, count(*) FROM spans GROUP BY 1").fetchall())
        first = one("SELECT strftime(min(start_time), '%Y-%m-%dT%H:%M:%S.%gZ') FROM spans")
        last = one("SELECT strftime(max(start_time), '%Y-%m-%dT%H:%M:%S.%gZ') FROM spans")
        assert shown == {
            "path": str(isolated_store), "size_bytes": isolated_store.stat().st_size,
            "schema_version": SCHEMA_VERSION, "spans": one("SELECT count(*) FROM spans"),
            "traces": one("SELECT count(*) FROM trace_summary"),
            "ingests": one("SELECT count(*) FROM ingests"),
            "first_span": first, "last_span": last, "formats": formats}
    assert set(formats) == {"portkey", "otlp"} and shown["ingests"] == 1
    table = cli("store").stdout
    assert str(isolated_store) in table and f"otlp={formats['otlp']}" in table
    assert f"portkey={formats['portkey']}" in table


def test_store_of_an_empty_store(cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli("ingest", str(empty)).exit_code == 0
    shown = json.loads(cli("store", "-f", "json").stdout)
    assert shown["spans"] == shown["traces"] == 0 and shown["formats"] == {}
    assert shown["first_span"] is None and shown["schema_version"] == SCHEMA_VERSION


READS = [["traces"], ["spans"], ["cost"], ["stats"], ["show", REFERENCE_TRACE], ["export"],
         ["sql", "SELECT 1"], ["store"], ["check", "--max-cost", "1"], ["feedback", "list"]]


@pytest.mark.parametrize("command", READS, ids=[c[0] for c in READS])
def test_a_missing_store_is_not_found_and_not_created(cli: Invoke, tmp_path: Path,
                                                      command: list[str]) -> None:
    db = tmp_path / "typo" / "stroe.duckdb"
    result = cli(*command, "--db", str(db))
    assert result.exit_code == 4, result.stderr
    assert result.stderr == f"tracecli: error: no store at {db} (run `tracecli ingest` first)\n"
    assert result.stdout == ""
    assert not db.parent.exists()


def test_ingest_still_creates_the_store(cli: Invoke, tmp_path: Path) -> None:
    db = tmp_path / "new" / "store.duckdb"
    assert cli("ingest", str(SAMPLE_JSONL), "--db", str(db)).exit_code == 0
    assert json.loads(cli("store", "--db", str(db), "-f", "json").stdout)["spans"] > 0


@pytest.mark.parametrize("command", [["traces"], ["sql", "SELECT 1"], ["store"]])
def test_a_log_file_given_as_the_store_is_bad_input(cli: Invoke, command: list[str]) -> None:
    before = SAMPLE_JSONL.read_bytes()
    result = cli(*command, "--db", str(SAMPLE_JSONL))
    assert result.exit_code == 3, result.stderr
    assert result.stderr == (f"tracecli: error: cannot open store {SAMPLE_JSONL}: not a tracecli "
                             "store (not a DuckDB database file)\n")
    assert SAMPLE_JSONL.read_bytes() == before


def test_a_duckdb_file_of_something_else_is_bad_input_and_left_alone(cli: Invoke,
                                                                     tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE orders (id INTEGER)")
    before = other.read_bytes()
    result = cli("traces", "--db", str(other))
    assert result.exit_code == 3
    assert "a DuckDB database, but not a tracecli store" in result.stderr
    assert result.stderr.count("\n") == 1
    assert other.read_bytes() == before


def test_an_empty_store_prints_the_header_and_a_hint(cli: Invoke, isolated_store: Path,
                                                     tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli("ingest", str(empty)).exit_code == 0
    result = cli("traces")
    assert result.exit_code == 0
    assert result.stdout.split() == ["trace", "start", "(UTC)", "duration", "LLM", "tools",
                                     "models", "tokens", "cost", "status", "feedback", "tags"]
    assert f"store {isolated_store} is empty: run `tracecli ingest PATH...`" in result.stderr
