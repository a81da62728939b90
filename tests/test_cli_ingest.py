"""Ingest through the real CLI: detection, idempotence, stdin, Parquet, the summary line."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import (
    ROOT,
    SAMPLE_FEEDBACK,
    SAMPLE_JSONL,
    SAMPLE_PARQUET,
    SAMPLES,
    Invoke,
    Stored,
    sample_rows,
)
from tracecli.ingest import pipeline


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_ingest_summary_counts_records_traces_calls(cli: Invoke, isolated_store: Path) -> None:
    result = cli("ingest", str(SAMPLE_JSONL))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # messages go to stderr
    assert "15 records (15 portkey)" in result.stderr
    assert "added 15 spans in 8 traces (14 LLM calls, 6 tool calls)" in result.stderr
    assert "rows/s" in result.stderr and "MB/s" in result.stderr
    assert _count(isolated_store, "SELECT count(*) FROM spans") == len(sample_rows())


def test_log_records_of_messages_count_as_content_not_spans(cli: Invoke, isolated_store: Path) -> None:
    """An OTLP logs file's records carry their calls' messages: counted as that, once; the
    second ingest of the pair adds nothing, and says so."""
    split = Path(__file__).parent / "fixtures" / "formats" / "otlp" / "split"
    first = cli("ingest", str(split))
    assert first.exit_code == 0, first.stderr
    spans = _count(isolated_store, "SELECT count(*) FROM spans")
    content = _count(isolated_store, "SELECT count(*) FROM span_content")
    records = spans + content
    assert content > 0 and f"{records} records" in first.stderr
    assert f"added {spans} spans and the messages of {content} calls from log records" in first.stderr
    assert "0 already stored" in first.stderr
    again = cli("ingest", str(split))
    assert again.exit_code == 0, again.stderr
    assert "added 0 spans in 0 traces" in again.stderr and f"{records} already stored" in again.stderr
    assert _count(isolated_store, "SELECT count(*) FROM spans") == spans


def test_reingest_adds_nothing(cli: Invoke, stored: Stored, isolated_store: Path) -> None:
    stored(str(SAMPLE_JSONL))
    again = cli("ingest", str(SAMPLES))  # the directory: JSONL and the same rows as Parquet
    assert again.exit_code == 0, again.stderr
    assert "added 0 spans" in again.stderr and "30 already stored" in again.stderr
    assert "added 3 feedback" in again.stderr and "(3 feedback, 30 portkey)" in again.stderr
    assert _count(isolated_store, "SELECT count(*) FROM spans") == 15
    assert _count(isolated_store, "SELECT sum(tool_calls) FROM trace_summary") == 6
    assert _count(isolated_store, "SELECT count(*) FROM trace_summary") == 8


def test_parquet_holds_the_same_spans_as_jsonl(cli: Invoke, tmp_path: Path) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    cli("ingest", str(SAMPLE_JSONL), "--db", str(a))
    cli("ingest", str(SAMPLE_PARQUET), "--db", str(b))
    outs = [cli("spans", "--db", str(db), "--format", "jsonl").stdout for db in (a, b)]
    rows = [[{k: v for k, v in json.loads(line).items() if k != "source_file"}
             for line in out.splitlines()] for out in outs]
    assert rows[0] == rows[1] and len(rows[0]) == 15


def test_stdin_and_gzip_and_glob(cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "logs" / "export.jsonl.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(SAMPLE_JSONL.read_bytes()))
    assert cli("ingest", str(tmp_path / "logs" / "*.gz")).exit_code == 0
    result = cli("ingest", "-", input=SAMPLE_JSONL.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "added 0 spans" in result.stderr
    assert _count(isolated_store, "SELECT count(*) FROM spans") == 15


def test_portkey_cost_cents_by_default_usd_on_request(cli: Invoke, tmp_path: Path) -> None:
    row = sample_rows()[0]
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(row) + "\n")
    for unit, factor in (("cents", 0.01), ("usd", 1.0)):
        db = tmp_path / f"{unit}.duckdb"
        assert cli("ingest", str(path), "--db", str(db), "--portkey-cost-unit", unit).exit_code == 0
        doc = json.loads(cli("cost", "--db", str(db), "--format", "json").stdout)
        assert doc["total"]["cost_usd"] == round(row["cost"] * factor, 12)


def test_metadata_as_key_value_arrays(cli: Invoke, tmp_path: Path) -> None:
    row = sample_rows()[0]
    meta = row.pop("metadata")
    row["metadata.key"], row["metadata.value"] = list(meta), list(meta.values())
    row["ai_provider"] = row.pop("ai_org")
    row["request_tokens"], row["response_tokens"] = row.pop("req_units"), row.pop("res_units")
    path = tmp_path / "kv.jsonl"
    path.write_text(json.dumps(row) + "\n")
    spans = json.loads(cli("spans", "--from", str(path), "--format", "json").stdout)
    assert spans[0]["metadata"] == meta
    assert spans[0]["provider"] == "openai" and spans[0]["prompt_tokens"] == 142


def test_generic_openai_rows_and_computed_cost(cli: Invoke, tmp_path: Path) -> None:
    """A row with only bodies and a trace id: detected as `openai`, priced from genai-prices."""
    rows = sample_rows()[:4]
    path = tmp_path / "gateway.jsonl"
    with path.open("w") as fh:
        for i, r in enumerate(rows):
            fh.write(json.dumps({"trace_id": "t-generic", "timestamp": r["created_at"],
                                 "latency_ms": r["response_time"], "request": r["request"],
                                 "response": r["response"], "id": f"g{i}"}) + "\n")
    result = cli("ingest", str(path))
    assert "4 records (4 openai)" in result.stderr
    out = cli("show", "t-generic").stdout
    assert "multiply(first_int=243, second_int=36) → 8748" in out
    doc = json.loads(cli("cost", "--format", "json").stdout)
    assert doc["total"]["computed"] == 4 and doc["total"]["logged"] == 0
    prompt = sum(r["req_units"] for r in rows)
    completion = sum(r["res_units"] for r in rows)
    expected = prompt * 0.15e-6 + completion * 0.6e-6  # gpt-4o-mini list price
    assert abs(doc["total"]["cost_usd"] - expected) < 1e-12


def test_unknown_model_is_unpriced_not_zero(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({
        "trace_id": "t-x", "request": {"model": "acme-llm-9", "messages": [{"role": "user", "content": "hi"}]},
        "response": {"choices": [{"message": {"role": "assistant", "content": "yo"}}],
                     "usage": {"prompt_tokens": 3, "completion_tokens": 1}}}) + "\n")
    doc = json.loads(cli("cost", "--from", str(path), "--format", "json").stdout)
    assert doc["rows"][0]["unpriced"] == 1 and doc["rows"][0]["cost_usd"] == 0
    traces = json.loads(cli("traces", "--from", str(path), "--format", "json").stdout)
    assert traces[0]["cost_usd"] is None and traces[0]["unpriced_calls"] == 1


def test_canonical_export_round_trips(cli: Invoke, stored: Stored, tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    export = tmp_path / "spans.jsonl"
    export.write_text(cli("spans", "--format", "jsonl").stdout)
    other = tmp_path / "other.duckdb"
    result = cli("ingest", str(export), "--db", str(other))
    assert "15 records (15 tracecli)" in result.stderr
    again = cli("spans", "--db", str(other), "--format", "jsonl").stdout
    assert again == export.read_text()
    # and into the original store it is a no-op: same record keys
    assert "added 0 spans" in cli("ingest", str(export)).stderr


def test_undetectable_file_names_file_and_formats_tried(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "weird.jsonl"
    path.write_text('{"hello": "world"}\n')
    result = cli("ingest", str(path))
    assert result.exit_code == 3
    assert str(path) in result.stderr and "tried" in result.stderr and "portkey" in result.stderr


def test_formats_lists_readers(cli: Invoke) -> None:
    names = [r["name"] for r in json.loads(cli("formats", "--format", "json").stdout)]
    assert {"portkey", "openai", "tracecli"} <= set(names)


def test_feedback_joins_its_trace(cli: Invoke, sample_store: None) -> None:
    rows = json.loads(cli("traces", "--format", "json", "--limit", "0").stdout)
    scores = {r["trace_id"]: (r["feedback_score"], r["feedback_count"]) for r in rows}
    assert scores["trc_7f3a2c91e4b0"] == (9.0, 1)
    assert scores["trc_4o_74dd32"] == (-4.0, 1)
    assert scores["trc_rag_5d21c0"] == (None, 0)
    assert "feedback +9.0 (1 vote)" in cli("show", "trc_7f3a2c91e4b0").stdout
    again = cli("ingest", str(SAMPLE_FEEDBACK))
    assert "3 already stored" in again.stderr and "feedback;" not in again.stderr


def test_feedback_weights_average(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "fb.jsonl"
    path.write_text('{"trace_id": "trc_7f3a2c91e4b0", "value": 10, "weight": 0.25}\n'
                    '{"trace_id": "trc_7f3a2c91e4b0", "value": -2}\n')
    rows = json.loads(cli("traces", "--from", str(SAMPLE_JSONL), "--from", str(path),
                          "--format", "json").stdout)
    ref = next(r for r in rows if r["trace_id"] == "trc_7f3a2c91e4b0")
    assert ref["feedback_count"] == 2
    assert ref["feedback_score"] == (10 * 0.25 - 2 * 1.0) / 1.25


def test_source_row_numbers_records_without_ids(cli: Invoke, tmp_path: Path) -> None:
    """Records with ids are found by them (and read in parallel, unnumbered); records of formats
    without ids carry the number of the line they came from."""
    otlp = ROOT / "tests" / "fixtures" / "formats" / "otlp" / "genai_traces.jsonl"
    assert cli("ingest", str(SAMPLE_JSONL), str(otlp)).exit_code == 0
    spans = [json.loads(line) for line in cli("spans", "--format", "jsonl").stdout.splitlines()]
    rows = {s["source_format"]: set() for s in spans}
    for s in spans:
        rows[s["source_format"]].add(s["source_row"])
    assert rows["portkey"] == {None}
    assert rows["otlp"] == {1, 2}  # two lines of resourceSpans, several spans each


def test_a_line_longer_than_16_mib_is_ingested_whole(cli: Invoke, isolated_store: Path,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines are first read with DuckDB's least buffers (16 MiB); where a longer line (an inline
    image) does not fit them, the ingest runs again with room for it, and nothing lands twice."""
    rows = sample_rows()
    filler = [{**rows[i % len(rows)], "id": f"fill-{i}", "trace_id": f"fill-{i // 4}"}
              for i in range(8000)]  # ~15 MiB: the image line crosses DuckDB's first buffer
    image = "data:image/png;base64," + "iVBORw0KGgo" * (2 << 20)  # 22 MiB
    with_image = sample_rows()[1]
    with_image["request"]["messages"].append(
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": image}}]})
    path = tmp_path / "with_image.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*filler, with_image]))
    line_limits = []
    run = pipeline._run
    monkeypatch.setattr(pipeline, "_run", lambda *a: line_limits.append(a[-1].max_line) or run(*a))
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    assert line_limits == [pipeline.MAX_LINE, pipeline.LONG_LINE]  # the case under test
    assert "added 8,001 spans" in result.stderr
    assert _count(isolated_store, "SELECT count(*) FROM spans") == 8001
    assert _count(isolated_store, "SELECT max(strlen(CAST(request AS VARCHAR))) FROM spans") > len(image)


def test_each_ingest_records_when_it_started_and_finished(cli: Invoke, isolated_store: Path) -> None:
    assert cli("ingest", str(SAMPLE_JSONL)).exit_code == 0
    with duckdb.connect(str(isolated_store), read_only=True) as con:
        started, finished, spans = con.execute(
            "SELECT started_at, finished_at, spans_added FROM ingests").fetchone()
    assert started < finished and spans == len(sample_rows())
    assert not Path(f"{isolated_store}.wal").exists()  # written to the store file, not left in the log
