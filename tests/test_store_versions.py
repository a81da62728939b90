"""The store file across tracecli versions: blank schema, older stores migrate, newer are refused."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import REFERENCE_TRACE, SAMPLE_JSONL, Invoke, Stored, sample_rows
from tracecli.store.schema import MIGRATIONS, SCHEMA_VERSION


def _version(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]


def _store_at(db: Path, version: int) -> None:
    """A store as an older tracecli left it: the first `version` migrations applied."""
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE schema_migrations (version INTEGER, name VARCHAR, "
                    "applied_at TIMESTAMP DEFAULT now())")
        for number, (name, step) in enumerate(MIGRATIONS[:version], start=1):
            step(con)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [number, name])


def test_blank_store_has_the_current_schema(cli: Invoke, isolated_store: Path,
                                           tmp_path: Path) -> None:
    assert cli("traces").exit_code == 4 and not isolated_store.exists()  # a read creates none
    nothing = tmp_path / "nothing.jsonl"
    nothing.write_text("")
    assert cli("ingest", str(nothing)).exit_code == 0  # an ingest does, even of nothing
    assert _version(isolated_store) == SCHEMA_VERSION
    with duckdb.connect(str(isolated_store), read_only=True) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"spans", "trace_summary", "cost_rollup", "ingests", "schema_migrations"} <= tables
    assert "tool_calls" not in tables  # derived when shown since migration 008


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_older_store_migrates_on_open_and_keeps_its_data(cli: Invoke, isolated_store: Path,
                                                         version: int) -> None:
    _store_at(isolated_store, version)
    with duckdb.connect(str(isolated_store)) as con:
        con.execute("INSERT INTO spans (record_key, trace_id, span_id, name) "
                    "VALUES ('old:1', 'old-trace', 'old-span', 'from an older tracecli')")
    result = cli("ingest", str(SAMPLE_JSONL))
    assert result.exit_code == 0, result.stderr
    assert _version(isolated_store) == SCHEMA_VERSION
    with duckdb.connect(str(isolated_store), read_only=True) as con:
        assert con.execute("SELECT name FROM spans WHERE record_key = 'old:1'").fetchone() == (
            "from an older tracecli",)
        assert con.execute("SELECT count(*) FROM spans").fetchone()[0] == len(sample_rows()) + 1


def test_store_without_schema_table_is_set_up(cli: Invoke, isolated_store: Path) -> None:
    duckdb.connect(str(isolated_store)).close()  # an empty DuckDB file
    result = cli("ingest", str(SAMPLE_JSONL))
    assert result.exit_code == 0, result.stderr
    assert _version(isolated_store) == SCHEMA_VERSION


@pytest.mark.parametrize("command", [["traces"], ["ingest", str(SAMPLE_JSONL)], ["cost"]])
def test_newer_store_is_refused_and_left_alone(cli: Invoke, stored: Stored, isolated_store: Path,
                                               command: list[str]) -> None:
    stored(str(SAMPLE_JSONL))
    with duckdb.connect(str(isolated_store)) as con:
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, 'from the future')",
                    [SCHEMA_VERSION + 1])
    before = isolated_store.read_bytes()
    result = cli(*command)
    assert result.exit_code == 6
    assert result.stderr.count("\n") == 1
    assert "newer than this tracecli understands" in result.stderr and "upgrade" in result.stderr
    assert "Traceback" not in result.output
    assert isolated_store.read_bytes() == before


def test_a_file_that_is_not_a_store_is_a_clean_error(cli: Invoke, isolated_store: Path) -> None:
    isolated_store.write_bytes(b"this is not a DuckDB file\n" * 100)
    for command in (["traces"], ["ingest", str(SAMPLE_JSONL)]):
        result = cli(*command)
        assert result.exit_code != 0
        assert result.stderr.startswith("tracecli: error: cannot open store")
        assert result.stderr.count("\n") == 1
    assert isolated_store.read_bytes() == b"this is not a DuckDB file\n" * 100


def test_a_store_from_before_tool_call_times_and_trace_keys_still_shows_its_traces(
        cli: Invoke, stored: Stored, isolated_store: Path) -> None:
    """Migrations 005-008 fill what they add from the rows already stored (and drop the stored
    tool calls that `show` now derives)."""
    stored(str(SAMPLE_JSONL))
    shown = cli("show", REFERENCE_TRACE).stdout
    with duckdb.connect(str(isolated_store)) as con:  # as tracecli left it at schema version 4
        con.execute("CREATE TABLE tool_calls (trace_id VARCHAR NOT NULL, llm_span_id VARCHAR, "
                    "tool_span_id VARCHAR, call_id VARCHAR, tool_name VARCHAR, arguments JSON, "
                    "result VARCHAR, result_source VARCHAR, seq INTEGER)")
        con.execute("INSERT INTO tool_calls (trace_id, llm_span_id, call_id, tool_name, seq) "
                    "SELECT trace_id, span_id, 'call_1', 'multiply', 1 FROM spans LIMIT 1")
        con.execute("ALTER TABLE trace_summary DROP COLUMN trace_key")
        con.execute("DROP TABLE cost_rollup")
        con.execute("DELETE FROM schema_migrations WHERE version > 4")
    result = cli("show", REFERENCE_TRACE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == shown and "exponentiate(base=3, exponent=5)" in shown
    assert _version(isolated_store) == SCHEMA_VERSION
    with duckdb.connect(str(isolated_store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'tool_calls'").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM trace_summary WHERE trace_key IS NULL").fetchone() == (0,)
