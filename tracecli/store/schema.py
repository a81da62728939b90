"""The store's schema: the canonical span table and its neighbours, as append-only migrations."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb

from tracecli.errors import ExitCode, TraceCliError
from tracecli.sql.template import fill, ident

# Every column of the canonical span table, in order. Readers produce any subset of these
# (INSERT ... BY NAME fills the rest with NULL).
SPAN_COLUMNS: dict[str, str] = {
    "record_key": "VARCHAR NOT NULL",  # dedupe key: format + source record id, or a content hash
    "trace_id": "VARCHAR NOT NULL",
    "span_id": "VARCHAR NOT NULL",
    "parent_span_id": "VARCHAR",
    "name": "VARCHAR",
    "kind": "VARCHAR",  # llm | embedding | tool | agent | chain | retriever | other
    "start_time": "TIMESTAMP",  # UTC
    "duration_ms": "DOUBLE",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "status": "VARCHAR",  # ok | error
    "http_status": "INTEGER",
    "error": "VARCHAR",
    "prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "cached_tokens": "BIGINT",
    "total_tokens": "BIGINT",
    "cost_usd": "DOUBLE",
    "cost_source": "VARCHAR",  # logged | computed | unpriced
    "cache_status": "VARCHAR",
    "retries": "INTEGER",
    "metadata": "MAP(VARCHAR, VARCHAR)",
    "request": "JSON",  # OpenAI-compatible chat request body where the source allows
    "response": "JSON",  # OpenAI-compatible chat completion body where the source allows
    "tool_call_id": "VARCHAR",  # tool spans: the call they executed
    "tool_name": "VARCHAR",
    "tool_arguments": "JSON",
    "tool_result": "VARCHAR",
    "source_file": "VARCHAR",
    "source_row": "BIGINT",  # 1-based record number within the source file
    "source_format": "VARCHAR",
    "ingest_id": "INTEGER",
}

# Span columns that hold money: every output writes them rounded (the SQL macro tc_money).
MONEY_COLUMNS = frozenset({"cost_usd"})


def _create_spans(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(fill("CREATE TABLE spans (\n  {{columns}}\n)", columns=_column_defs(SPAN_COLUMNS)))
    con.execute(
        """
        CREATE TABLE tool_calls (
          trace_id VARCHAR NOT NULL,
          llm_span_id VARCHAR,          -- the LLM call that asked for it
          tool_span_id VARCHAR,         -- the span that executed it, when the source has one
          call_id VARCHAR,
          tool_name VARCHAR,
          arguments JSON,
          result VARCHAR,
          result_source VARCHAR,        -- tool_message | tool_span | NULL when never answered
          seq INTEGER                   -- order in the trace, from 1
        )
        """
    )
    con.execute(
        """
        CREATE TABLE trace_summary (
          trace_id VARCHAR NOT NULL,
          start_time TIMESTAMP,
          end_time TIMESTAMP,
          duration_ms DOUBLE,
          spans BIGINT,
          llm_calls BIGINT,
          tool_calls BIGINT,
          models VARCHAR[],
          prompt_tokens BIGINT,
          completion_tokens BIGINT,
          total_tokens BIGINT,
          cost_usd DOUBLE,
          unpriced_calls BIGINT,
          errors BIGINT,
          status VARCHAR,
          tags MAP(VARCHAR, VARCHAR)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE ingests (
          ingest_id INTEGER NOT NULL,
          started_at TIMESTAMP,
          finished_at TIMESTAMP,
          sources VARCHAR[],
          records BIGINT,
          spans_added BIGINT
        )
        """
    )
    con.execute(
        """
        CREATE TABLE feedback (
          record_key VARCHAR NOT NULL,
          trace_id VARCHAR NOT NULL,
          value DOUBLE,
          weight DOUBLE,
          metadata MAP(VARCHAR, VARCHAR),
          created_at TIMESTAMP,
          source_file VARCHAR,
          source_row BIGINT
        )
        """
    )


def _column_defs(columns: dict[str, str]) -> str:
    return ",\n  ".join(fill("{{name}} {{type}}", name=ident(name), type=ctype)
                         for name, ctype in columns.items())


# Bodies are long, repetitive JSON (the same system prompt and tool schemas call after call):
# zstd over a whole segment shrinks them far more than the default per-string FSST, and writes
# faster too (benchmarks/README.md).
ZSTD_COLUMNS = {"spans": ("request", "response", "tool_arguments", "tool_result"),
                "tool_calls": ("arguments", "result")}


def _zstd_bodies(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild spans and tool_calls with zstd on their text columns (same columns, same order)."""
    for table, columns in ZSTD_COLUMNS.items():
        described = con.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = $table ORDER BY ordinal_position", {"table": table}
        ).fetchall()
        defs = ", ".join(_zstd_column(name, ctype, nullable == "YES", name in columns)
                         for name, ctype, nullable in described)
        old, new = ident(table), ident(table + "_v2")
        con.execute(fill("CREATE TABLE {{new}} ({{defs}})", new=new, defs=defs))
        con.execute(fill("INSERT INTO {{new}} BY NAME SELECT * FROM {{old}}", new=new, old=old))
        con.execute(fill("DROP TABLE {{old}}", old=old))
        con.execute(fill("ALTER TABLE {{new}} RENAME TO {{old}}", new=new, old=old))


def _zstd_column(name: str, ctype: str, nullable: bool, zstd: bool) -> str:
    return fill("{{name}} {{type}}{{not_null}}{{compression}}", name=ident(name), type=ctype,
                not_null="" if nullable else " NOT NULL",
                compression=" USING COMPRESSION zstd" if zstd else "")


def _span_content(con: duckdb.DuckDBPyConnection) -> None:
    """Message content logged apart from its span (OpenTelemetry GenAI log records), kept so a
    span ingested later still gets it (tracecli.ingest.detached_content)."""
    con.execute(
        """
        CREATE TABLE span_content (
          record_key VARCHAR NOT NULL,
          trace_id VARCHAR NOT NULL,
          span_id VARCHAR NOT NULL,
          request JSON,
          response JSON,
          source_file VARCHAR,
          source_row BIGINT,
          ingest_id INTEGER
        )
        """
    )


def _feedback_ingest_id(con: duckdb.DuckDBPyConnection) -> None:
    """Feedback rows carry the ingest that added them, as spans do (deduplication needs it)."""
    con.execute("ALTER TABLE feedback ADD COLUMN ingest_id INTEGER")


def _tool_call_times(con: duckdb.DuckDBPyConnection) -> None:
    """Tool calls carry the time of the span that asked for (or ran) them, so that `show` finds a
    trace's calls within its time range, as it finds its spans."""
    con.execute("ALTER TABLE tool_calls ADD COLUMN start_time TIMESTAMP")
    con.execute(
        """UPDATE tool_calls SET start_time = s.start_time FROM spans s
           WHERE s.trace_id = tool_calls.trace_id
             AND s.span_id = coalesce(tool_calls.llm_span_id, tool_calls.tool_span_id)"""
    )


# `show` looks one trace up among millions. Trace ids are random, so no sort order or zone map
# narrows a scan of them; a scan of 64-bit keys is several times cheaper. An ART index would be
# cheaper still to read, but DuckDB writes the whole index again at every checkpoint, which
# every append to a large store would pay.
_TRACE_KEY = "CAST(('0x' || left(md5({{trace_id}}), 16)) AS UBIGINT)"


def trace_key_sql(trace_id: str) -> str:
    """The key of the trace id that SQL expression `trace_id` yields."""
    return fill(_TRACE_KEY, trace_id=trace_id)


def trace_key(trace_id: str) -> int:
    """The same key in Python: the first 64 bits of the id's MD5."""
    return int(hashlib.md5(trace_id.encode()).hexdigest()[:16], 16)


def _trace_summary_key(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE trace_summary ADD COLUMN trace_key UBIGINT")
    con.execute(fill("UPDATE trace_summary SET trace_key = {{key}}", key=trace_key_sql("trace_id")))


def _cost_rollup(con: duckdb.DuckDBPyConnection) -> None:
    from tracecli.store import rollup

    rollup.create(con)


def _drop_tool_calls(con: duckdb.DuckDBPyConnection) -> None:
    """Tool calls are derived when a trace is shown (tracecli.sql.toolcalls): storing them cost each
    ingest a second parse of every request, and the store a copy of every argument and result."""
    con.execute("DROP TABLE IF EXISTS tool_calls")


# Append-only: never edit or reorder an entry once released; add a new one instead.
MIGRATIONS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], None]]] = [
    ("001_spans_tool_calls_summary_ingests_feedback", _create_spans),
    ("002_zstd_bodies", _zstd_bodies),
    ("003_span_content", _span_content),
    ("004_feedback_ingest_id", _feedback_ingest_id),
    ("005_tool_call_times", _tool_call_times),
    ("006_trace_summary_key", _trace_summary_key),
    ("007_cost_rollup", _cost_rollup),
    ("008_drop_tool_calls", _drop_tool_calls),
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied to the store (0 for a blank one)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the migrations this store lacks, in one transaction; refuse a newer store."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise TraceCliError(
            f"store schema version {current} is newer than this tracecli understands "
            f"({SCHEMA_VERSION}); upgrade tracecli",
            ExitCode.STORE_VERSION,
        )
    if current == SCHEMA_VERSION:
        return
    con.execute("BEGIN")
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER, name VARCHAR, applied_at TIMESTAMP DEFAULT now())"
        )
        for version, (name, step) in enumerate(MIGRATIONS, start=1):
            if version > current:
                step(con)
                con.execute("INSERT INTO schema_migrations BY NAME "
                            "SELECT $version::INTEGER AS version, $name AS name",
                            {"version": version, "name": name})
        con.execute("COMMIT")
    except BaseException:  # Ctrl-C too: the store stays at the version it had
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # a COMMIT that failed rolled back already; the error it raised says why
        raise
