"""`tracecli sql`: answers over every documented view, in every format, and refuses whatever is
not a read of the store (writes, settings, file readers) with the store left as it was."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import ROOT, SAMPLE_JSONL, SAMPLES, Invoke, Stored
from tracecli.ingest.formats.tracecli_spans import EXPORTED
from tracecli.read.listing import TRACE_FIELDS
from tracecli.read.views import VIEWS

README = (ROOT / "README.md").read_text()


@pytest.fixture
def store(stored: Stored, isolated_store: Path) -> Path:
    stored(str(SAMPLES))
    return isolated_store


def query(cli: Invoke, sql: str, *args: str) -> list[dict[str, Any]]:
    result = cli("sql", sql, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def direct(db: Path, sql: str) -> Any:
    """The store's own answer, read past tracecli."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row[0] if len(row) == 1 else row


def test_every_view_answers_what_the_store_holds(cli: Invoke, store: Path) -> None:
    assert query(cli, "SELECT count(*) AS n FROM spans") == [{"n": direct(store, "SELECT count(*) FROM spans")}]
    traces = query(cli, "SELECT trace_id, spans, tool_calls, feedback_count FROM traces ORDER BY trace_id")
    assert len(traces) == direct(store, "SELECT count(*) FROM trace_summary") > 1
    listed = {t["trace_id"]: t for t in json.loads(cli("traces", "-n", "0", "-f", "json").stdout)}
    assert traces == [{k: listed[t["trace_id"]][k] for k in t} for t in traces]  # as `traces` says
    calls = query(cli, "SELECT trace_id, count(*) AS n FROM tool_calls GROUP BY ALL ORDER BY trace_id")
    assert {c["trace_id"]: c["n"] for c in calls} == {t["trace_id"]: t["tool_calls"] for t in traces
                                                     if t["tool_calls"]}
    first = query(cli, "SELECT tool_name, arguments, result FROM tool_calls "
                       "WHERE trace_id = 'trc_7f3a2c91e4b0' ORDER BY seq LIMIT 1")
    assert first == [{"tool_name": "exponentiate", "arguments": {"base": 3, "exponent": 5},
                      "result": "243"}]  # JSON columns as values
    feedback = query(cli, "SELECT trace_id, value FROM feedback ORDER BY trace_id, value")
    assert len(feedback) == direct(store, "SELECT count(*) FROM feedback") > 0
    daily = query(cli, "SELECT sum(calls) AS calls, sum(cost_usd) AS cost_usd FROM cost_daily")
    cost = json.loads(cli("cost", "--by", "day", "-f", "json").stdout)["total"]
    assert daily[0]["calls"] == cost["calls"]
    assert daily[0]["cost_usd"] == pytest.approx(cost["cost_usd"])


def test_views_keep_their_documented_columns(cli: Invoke, store: Path) -> None:
    schema = json.loads(cli("sql", "--schema", "-f", "json").stdout)
    for view in VIEWS:
        result = cli("sql", f"SELECT * FROM {view.name} LIMIT 0", "-f", "csv")
        assert result.exit_code == 0, result.stderr
        header = next(csv.reader(io.StringIO(result.stdout)))
        assert header == [r["column"] for r in schema if r["view"] == view.name]
        assert f"| `{view.name}` |" in README and all(c in README for c in header)
    spans = next(csv.reader(io.StringIO(cli("sql", "FROM spans LIMIT 0", "-f", "csv").stdout)))
    assert spans == EXPORTED  # as `spans --format jsonl` writes them
    traces = next(csv.reader(io.StringIO(cli("sql", "FROM traces LIMIT 0", "-f", "csv").stdout)))
    assert traces == [*TRACE_FIELDS, "feedback_score", "feedback_count"]


def test_schema_lists_every_view_and_its_columns(cli: Invoke, isolated_store: Path) -> None:
    result = cli("sql", "--schema", "-f", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [v.name for v in VIEWS] == list(dict.fromkeys(r["view"] for r in rows))
    assert {"view": "cost_daily", "column": "cost_usd", "type": "DOUBLE"} in rows
    assert {"view": "traces", "column": "feedback_score", "type": "DOUBLE"} in rows
    assert not isolated_store.exists()  # no store needed to list them


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown"])
def test_every_format(cli: Invoke, store: Path, fmt: str) -> None:
    sql = ("SELECT model, count(*) AS calls, sum(cost_usd) AS cost_usd FROM spans "
           "WHERE model = 'gpt-4o' GROUP BY model")
    result = cli("sql", sql, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    calls = direct(store, "SELECT count(*) FROM spans WHERE model = 'gpt-4o'")
    if fmt == "json":
        assert [set(r) for r in json.loads(out)] == [{"model", "calls", "cost_usd"}]
    elif fmt == "jsonl":
        assert json.loads(out.splitlines()[0])["calls"] == calls
    elif fmt == "csv":
        assert list(csv.DictReader(io.StringIO(out)))[0]["calls"] == str(calls)
    else:
        assert "model" in out.splitlines()[0] and "gpt-4o" in out and "$" in out


def test_from_queries_a_log_without_a_store(cli: Invoke, isolated_store: Path) -> None:
    rows = query(cli, "SELECT count(*) AS n FROM spans", "--from", str(SAMPLE_JSONL))
    assert rows == [{"n": len([line for line in SAMPLE_JSONL.read_text().splitlines() if line.strip()])}]
    refused = cli("sql", "DELETE FROM spans", "--from", str(SAMPLE_JSONL))
    assert refused.exit_code == 2 and "read-only" in refused.stderr
    assert not isolated_store.exists()


def fingerprint(db: Path) -> tuple[str, Any]:
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    counts = direct(db, "SELECT (SELECT count(*) FROM spans), (SELECT count(*) FROM feedback), "
                        "(SELECT count(*) FROM trace_summary)")
    return digest, counts


REFUSED = {
    "insert": ("INSERT INTO spans (record_key, trace_id, span_id) VALUES ('k', 't', 's')", "read-only"),
    "update": ("UPDATE spans SET model = 'x'", "read-only"),
    "delete": ("DELETE FROM feedback", "read-only"),
    "attach": ("ATTACH '{dir}/other.duckdb' AS other", "read-only"),
    "copy": ("COPY (SELECT * FROM spans) TO '{dir}/out.csv'", "read-only"),
    "create": ("CREATE TABLE evil AS SELECT * FROM spans", "read-only"),
    "drop": ("DROP VIEW spans", "read-only"),
    "pragma": ("PRAGMA enable_external_access", "read-only"),
    "set": ("SET enable_external_access = true", "read-only"),
    "two statements": ("SELECT 1; DELETE FROM spans", "one statement"),
    "read_csv": ("SELECT * FROM read_csv('{dir}/secret.csv')", "no files"),
    "read_text": ("SELECT * FROM read_text('{dir}/secret.csv')", "no files"),
    "read_json": ("SELECT * FROM read_json('{dir}/secret.csv')", "no files"),
    "read_parquet": ("SELECT * FROM read_parquet('{dir}/secret.csv')", "no files"),
    "a file by name": ("SELECT * FROM '{dir}/secret.csv'", "no files"),
    "glob": ("SELECT * FROM glob('{dir}/*')", "no files"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_statements_leave_the_store_unchanged(cli: Invoke, store: Path, tmp_path: Path,
                                                      name: str) -> None:
    (tmp_path / "secret.csv").write_text("password\nhunter2\n")
    before = fingerprint(store)
    sql, says = REFUSED[name]
    result = cli("sql", sql.format(dir=tmp_path))
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tracecli: error: ")
    assert says in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and "hunter2" not in result.output
    assert fingerprint(store) == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


@pytest.mark.parametrize("sql, says", [("SELEC 1", "Parser Error"),
                                       ("SELECT nope FROM spans", "Binder Error"),
                                       ("SELECT * FROM no_such_view", "Catalog Error")])
def test_a_bad_query_is_a_usage_error_in_one_line(cli: Invoke, store: Path, sql: str, says: str) -> None:
    result = cli("sql", sql)
    assert result.exit_code == 2
    assert result.stderr.startswith("tracecli: error: query failed: ") and says in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_query_or_schema_is_needed(cli: Invoke, store: Path) -> None:
    for args in ([], ["SELECT 1", "--schema"]):
        result = cli("sql", *args)
        assert result.exit_code == 2 and "--schema" in result.stderr


def test_an_empty_result_keeps_its_header(cli: Invoke, store: Path) -> None:
    result = cli("sql", "SELECT trace_id, cost_usd FROM traces WHERE false", "-f", "csv")
    assert result.exit_code == 0 and result.stdout == "trace_id,cost_usd\n"
    assert "no rows" in result.stderr


def test_floating_point_results_print_without_float_noise(cli: Invoke, store: Path) -> None:
    """A sum of costs or a mean latency has no known unit: every format rounds it to ten
    significant digits (as money is), where DuckDB's double prints 0.00029490000000000007."""
    sql = "SELECT sum(cost_usd) AS spent, avg(duration_ms) AS mean_ms FROM spans WHERE model = 'gpt-4o-mini'"
    exact = direct(store, sql)
    spent, mean_ms = (float(f"{v:.10g}") for v in exact)
    assert query(cli, sql) == [{"spent": spent, "mean_ms": mean_ms}]
    for fmt in ("table", "csv"):
        result = cli("sql", sql, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        assert f"{spent:.10g}" in result.stdout and f"{mean_ms:.10g}" in result.stdout
        assert repr(exact[0]) not in result.stdout or repr(exact[0]) == f"{spent:.10g}"
