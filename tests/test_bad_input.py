"""Bad input through the real CLI, one named behaviour per case.

Default: the first bad record stops the ingest with one stderr line naming file:line (or
element / row group) and what was wrong, exit code 3, and the store exactly as before.
--skip-bad: every valid record is ingested, the skipped ones are counted and the first few
named, and --rejects gets their raw lines. No input ever shows a Python traceback."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE_JSONL, Invoke, StoreCache, Stored, sample_rows

REF = "trc_7f3a2c91e4b0"


def lines(rows: list[dict[str, Any]] | None = None) -> list[bytes]:
    return [json.dumps(r).encode() for r in (rows if rows is not None else sample_rows())]


def write(path: Path, parts: list[bytes], sep: bytes = b"\n", end: bytes = b"\n") -> Path:
    path.write_bytes(sep.join(parts) + end)
    return path


def snapshot(db: Path) -> tuple[Any, ...]:
    """Everything a failed ingest must leave as it was."""
    with duckdb.connect(str(db), read_only=True) as con:
        return tuple(con.execute(sql).fetchall() for sql in (
            "SELECT record_key, trace_id, ingest_id FROM spans ORDER BY ALL",
            "SELECT ingest_id, records, spans_added FROM ingests ORDER BY ALL",
            "SELECT trace_id, spans, llm_calls, tool_calls FROM trace_summary ORDER BY ALL",
        ))


def query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def spans(db: Path) -> int:
    return query(db, "SELECT count(*) FROM spans")[0][0]


@pytest.fixture
def seeded(store_cache: StoreCache, stored: Stored, isolated_store: Path) -> tuple[Any, ...]:
    """A store with one earlier ingest (a different set of records than the test's)."""
    rows = [dict(r, id=f"earlier-{r['id']}", trace_id=f"earlier-{r['trace_id']}") for r in sample_rows()]
    stored(str(store_cache.file("earlier.jsonl", rows)))
    before = snapshot(isolated_store)
    assert len(before[0]) == len(rows) and len(before[1]) == 1
    return before


def fails_cleanly(cli: Invoke, db: Path, before: tuple[Any, ...], path: Path, *expected: str) -> str:
    result = cli("ingest", str(path))
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tracecli: error: ")
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert snapshot(db) == before  # one transaction: nothing of the failed ingest is left
    return result.stderr


def skips(cli: Invoke, path: Path, rejects: Path, skipped: int, *expected: str) -> str:
    result = cli("ingest", "--skip-bad", "--rejects", str(rejects), str(path))
    assert result.exit_code == 0, result.output
    assert f"skipped {skipped} bad record(s)" in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


# --- malformed, truncated, non-UTF-8 lines -------------------------------------------------


def test_malformed_line_fails_naming_its_line(cli, isolated_store, seeded, tmp_path) -> None:
    good = lines()
    bad = write(tmp_path / "bad.jsonl", [*good[:3], b'{"id": "x", oops', *good[3:]])
    fails_cleanly(cli, isolated_store, seeded, bad, "bad.jsonl:4: not valid JSON")


def test_malformed_line_is_skipped_and_rejected(cli, isolated_store, seeded, tmp_path) -> None:
    good = lines()
    bad = write(tmp_path / "bad.jsonl", [*good[:3], b'{"id": "x", oops', *good[3:], b"not json at all"])
    rejects = tmp_path / "rejects.jsonl"
    skips(cli, bad, rejects, 2, "bad.jsonl:4: not valid JSON", f"bad.jsonl:{len(good) + 2}:")
    assert spans(isolated_store) == 2 * len(good)
    assert rejects.read_bytes() == b'{"id": "x", oops\nnot json at all\n'


def test_truncated_last_line(cli, isolated_store, seeded, tmp_path) -> None:
    good = lines()
    cut = write(tmp_path / "cut.jsonl", [*good[:-1], good[-1][:80]], end=b"")
    fails_cleanly(cli, isolated_store, seeded, cut, f"cut.jsonl:{len(good)}:", "cut short")
    skips(cli, cut, tmp_path / "r.jsonl", 1, f"cut.jsonl:{len(good)}:")
    assert spans(isolated_store) == 2 * len(good) - 1
    assert (tmp_path / "r.jsonl").read_bytes() == good[-1][:80] + b"\n"


def test_non_utf8_bytes(cli, isolated_store, seeded, tmp_path) -> None:
    good = lines()
    bad = write(tmp_path / "latin1.jsonl", [*good[:2], '{"id": "é"}'.encode("latin-1"), *good[2:]])
    fails_cleanly(cli, isolated_store, seeded, bad, "latin1.jsonl:3: not valid UTF-8")
    skips(cli, bad, tmp_path / "r.jsonl", 1, "latin1.jsonl:3: not valid UTF-8")
    assert spans(isolated_store) == 2 * len(good)


@pytest.mark.parametrize("line, what", [
    (b"[1, 2, 3]", "expected a JSON object, got list"),
    (b'"just a string"', "expected a JSON object, got str"),
    (b"42", "expected a JSON object, got int"),
    (b"null", "expected a JSON object, got null"),
    (b"\x00\x00\x00", "not valid JSON"),
    (b"\x1b]52;c;ZXZpbA==\x07", "not valid JSON"),
])
def test_line_that_is_not_an_object(cli, isolated_store, seeded, tmp_path, line, what) -> None:
    good = lines()
    bad = write(tmp_path / "odd.jsonl", [good[0], line, *good[1:]])
    stderr = fails_cleanly(cli, isolated_store, seeded, bad, "odd.jsonl:2:", what)
    assert "\x1b" not in stderr and "\x00" not in stderr
    skips(cli, bad, tmp_path / "r.jsonl", 1, "odd.jsonl:2:")
    assert spans(isolated_store) == 2 * len(good)


@pytest.mark.parametrize("line", [b"{}", b'{"unrelated": 1, "fields": [2]}'])
def test_object_with_none_of_the_formats_fields_is_no_record(cli, isolated_store, seeded, tmp_path,
                                                            line) -> None:
    """It used to become an empty span in a trace of its own."""
    good = lines()
    bad = write(tmp_path / "empty.jsonl", [*good[:3], line, *good[3:]])
    fails_cleanly(cli, isolated_store, seeded, bad, "empty.jsonl:4: cannot detect the log format")
    result = cli("ingest", "--skip-bad", str(bad))  # dropped: there is nothing in it to keep
    assert result.exit_code == 0, result.output
    assert spans(isolated_store) == 2 * len(good)


def test_deeply_nested_record_is_no_crash(cli, isolated_store, tmp_path) -> None:
    deep = b'{"x":' * 5000 + b"1" + b"}" * 5000
    path = write(tmp_path / "deep.jsonl", [*lines(), deep])
    result = cli("ingest", str(path))
    assert result.exit_code in (0, 3) and "Traceback" not in result.output
    assert "internal error" not in result.stderr


# --- encodings, line ends, blank lines, empty files ---------------------------------------


def test_utf8_bom_is_read(cli, isolated_store, tmp_path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines()) + b"\n")
    assert cli("ingest", str(path)).exit_code == 0
    assert spans(isolated_store) == len(sample_rows())
    assert query(isolated_store, "SELECT count(*) FROM spans WHERE record_key = 'portkey:ref-log-1'") == [(1,)]


def test_crlf_line_ends_are_read(cli, isolated_store, tmp_path) -> None:
    path = write(tmp_path / "crlf.jsonl", lines(), sep=b"\r\n", end=b"\r\n")
    assert cli("ingest", str(path)).exit_code == 0
    assert spans(isolated_store) == len(sample_rows())
    assert query(isolated_store, "SELECT count(*) FROM spans WHERE contains(source_format, chr(13)) "
                 "OR contains(trace_id, chr(13)) OR contains(CAST(response AS VARCHAR), '\\r')") == [(0,)]


def test_blank_lines_are_ignored(cli, isolated_store, tmp_path) -> None:
    parts = [b"", b"   "]
    for line in lines():
        parts += [line, b"", b"\t"]
    path = write(tmp_path / "blank.jsonl", parts)
    result = cli("ingest", str(path))
    assert result.exit_code == 0 and "skipped 0" in result.stderr
    assert spans(isolated_store) == len(sample_rows())


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"[]", b"[ \n ]"])
def test_empty_file_ingests_nothing(cli, isolated_store, tmp_path, content) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(content)
    result = cli("ingest", str(empty), str(SAMPLE_JSONL))
    assert result.exit_code == 0, result.stderr
    assert "ingested 2 file(s)" in result.stderr
    assert spans(isolated_store) == len(sample_rows())


def test_empty_gzip_and_parquet_ingest_nothing(cli, isolated_store, tmp_path) -> None:
    gz = tmp_path / "empty.jsonl.gz"
    gz.write_bytes(gzip.compress(b""))
    pq.write_table(pa.table({"id": pa.array([], pa.string())}), tmp_path / "empty.parquet")
    result = cli("ingest", str(gz), str(tmp_path / "empty.parquet"))
    assert result.exit_code == 0, result.stderr
    assert "0 records" in result.stderr


# --- size and shape ------------------------------------------------------------------------


def test_fifty_megabyte_single_line(cli, isolated_store, tmp_path) -> None:
    row = sample_rows()[-1]
    big = "x" * (50 * 1024 * 1024)
    row["response"]["choices"][0]["message"]["content"] = big
    path = write(tmp_path / "big.jsonl", [json.dumps(row).encode(), *lines()[:3]])
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    assert query(isolated_store, "SELECT length(response->'choices'->0->'message'->>'content') "
                 "FROM spans WHERE record_key = $1", [f"portkey:{row['id']}"]) == [(len(big),)]


def test_json_array_instead_of_jsonl(cli, isolated_store, tmp_path) -> None:
    path = tmp_path / "array.json"
    path.write_text(json.dumps(sample_rows(), indent=2))
    assert cli("ingest", str(path)).exit_code == 0
    assert spans(isolated_store) == len(sample_rows())
    show = cli("show", REF, "--format", "json")
    assert json.loads(show.stdout)["trace"]["tool_calls"] == 3


def test_json_array_with_non_object_elements(cli, isolated_store, seeded, tmp_path) -> None:
    path = tmp_path / "array.json"
    path.write_text(json.dumps([*sample_rows()[:3], 7, None]))
    fails_cleanly(cli, isolated_store, seeded, path, "array.json: element 4: expected a JSON object, got int")
    skips(cli, path, tmp_path / "r.jsonl", 2, "element 4", "element 5")
    assert (tmp_path / "r.jsonl").read_text() == "7\nnull\n"


def test_malformed_json_document(cli, isolated_store, seeded, tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(sample_rows(), indent=2)[:-200])
    fails_cleanly(cli, isolated_store, seeded, path, "broken.json:", "not valid JSON")
    result = cli("ingest", "--skip-bad", str(path), str(SAMPLE_JSONL))
    assert result.exit_code == 0 and "1 unreadable file(s)" in result.stderr
    assert "broken.json: file skipped" in result.stderr


# --- lenient field types -------------------------------------------------------------------


def _one(db: Path, key: str, cols: str) -> tuple[Any, ...]:
    rows = query(db, f"SELECT {cols} FROM spans WHERE record_key = $1", [f"portkey:{key}"])  # noqa: S608
    assert len(rows) == 1, rows
    return rows[0]


def test_wrongly_typed_fields_are_read_leniently(cli, isolated_store, tmp_path) -> None:
    base = sample_rows()[0]
    rows = [
        dict(base, id="as-strings", cost="0.5", req_units="142", res_units=" 18 ", total_units="160.0",
             response_time="690", is_success="true", response_status_code="200"),
        dict(base, id="epoch-s", created_at=1741083302),
        dict(base, id="epoch-ms", created_at=1741083302123),
        dict(base, id="epoch-s-string", created_at="1741083302.123"),
        dict(base, id="iso", created_at="2025-03-04T10:15:02.123+00:00"),
        dict(base, id="space", created_at="2025-03-04 10:15:02.123"),
        dict(base, id="junk", cost="n/a", req_units=[1], created_at={"when": "now"}, is_success="maybe"),
    ]
    path = write(tmp_path / "typed.jsonl", lines(rows))
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    cost, p, c, t, ms, status, http = _one(isolated_store, "as-strings", "cost_usd, prompt_tokens, "
                                           "completion_tokens, total_tokens, duration_ms, status, http_status")
    assert (round(cost, 6), p, c, t, ms, status, http) == (0.005, 142, 18, 160, 690.0, "ok", 200)
    times = {k: str(_one(isolated_store, k, "start_time")[0])
             for k in ("epoch-s", "epoch-ms", "epoch-s-string", "iso", "space")}
    assert times["epoch-s"] == "2025-03-04 10:15:02"
    assert {times[k] for k in ("epoch-ms", "epoch-s-string", "iso", "space")} == {"2025-03-04 10:15:02.123000"}
    # junk is NULL, not an error, and not $0
    assert _one(isolated_store, "junk", "cost_usd IS NULL OR cost_source = 'computed', "
                "start_time, status")[1:] == (None, "ok")


def test_bodies_stored_as_json_strings(cli, isolated_store, tmp_path) -> None:
    rows = [dict(r, request=json.dumps(r["request"]), response=json.dumps(r["response"]))
            for r in sample_rows()]
    path = write(tmp_path / "strings.jsonl", lines(rows))
    assert cli("ingest", str(path)).exit_code == 0
    assert query(isolated_store, "SELECT json_type(request), json_type(response) FROM spans "
                 "WHERE record_key = 'portkey:ref-log-1'") == [("OBJECT", "OBJECT")]
    show = json.loads(cli("show", REF, "--format", "json").stdout)
    assert show["trace"]["tool_calls"] == 3
    assert "76,527,504" in show["answer"]


def test_missing_trace_id_makes_each_record_its_own_trace(cli, isolated_store, tmp_path) -> None:
    rows = [{k: v for k, v in r.items() if k not in ("trace_id", "span_id", "parent_span_id")}
            for r in sample_rows()]
    path = write(tmp_path / "no-trace.jsonl", lines(rows))
    assert cli("ingest", str(path)).exit_code == 0
    assert query(isolated_store, "SELECT count(*), count(DISTINCT trace_id) FROM spans") == [(15, 15)]
    assert query(isolated_store, "SELECT count(*) FROM trace_summary") == [(15,)]


def test_duplicate_record_ids_in_one_file_are_stored_once(cli, isolated_store, tmp_path) -> None:
    good = lines()
    path = write(tmp_path / "dups.jsonl", [*good, *good[:5], good[0]])
    result = cli("ingest", str(path))
    assert result.exit_code == 0
    assert f"added {len(good)} spans" in result.stderr and "6 already stored" in result.stderr
    assert query(isolated_store, "SELECT count(*), count(DISTINCT record_key) FROM spans") == [(15, 15)]


# --- compressed and columnar files -----------------------------------------------------------


def test_truncated_gzip(cli, isolated_store, seeded, tmp_path) -> None:
    whole = gzip.compress(b"\n".join(lines() * 40) + b"\n")  # 600 lines, ~1 MB unpacked
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    stderr = fails_cleanly(cli, isolated_store, seeded, cut, "cut.jsonl.gz:", "compressed stream breaks off after line")
    line = int(stderr.split("cut.jsonl.gz:")[1].split(":")[0])
    assert 1 < line < 600
    skips(cli, cut, tmp_path / "r.jsonl", 1, f"cut.jsonl.gz:{line}:")
    assert spans(isolated_store) == 2 * len(sample_rows())  # whole lines were read; 15 distinct


def _parquet(path: Path, rows: list[dict[str, Any]], row_group_size: int = 5) -> Path:
    table = pa.table({
        "id": [r["id"] for r in rows], "trace_id": [r["trace_id"] for r in rows],
        "ai_model": [r["ai_model"] for r in rows], "ai_org": [r["ai_org"] for r in rows],
        "response_time": [r["response_time"] for r in rows],
        "request": [json.dumps(r["request"]) for r in rows],
    })
    pq.write_table(table, path, row_group_size=row_group_size, compression="none")
    return path


def test_truncated_parquet(cli, isolated_store, seeded, tmp_path) -> None:
    whole = _parquet(tmp_path / "whole.parquet", sample_rows()).read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole[: len(whole) - 40])
    fails_cleanly(cli, isolated_store, seeded, cut, "cut.parquet: not a readable Parquet file")
    result = cli("ingest", "--skip-bad", str(cut), str(SAMPLE_JSONL))
    assert result.exit_code == 0
    assert "1 unreadable file(s)" in result.stderr and "cut.parquet: file skipped" in result.stderr
    assert spans(isolated_store) == 2 * len(sample_rows())


def test_parquet_with_a_damaged_row_group(cli, isolated_store, seeded, tmp_path) -> None:
    path = _parquet(tmp_path / "damaged.parquet", sample_rows())
    chunk = pq.ParquetFile(path).metadata.row_group(1).column(5)  # request, second group
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset + 40
    data[start:start + 200] = b"Z" * 200
    path.write_bytes(bytes(data))
    fails_cleanly(cli, isolated_store, seeded, path, "damaged.parquet: row group 2:")
    skips(cli, path, tmp_path / "r.jsonl", 5, "damaged.parquet: row group 2:")
    assert spans(isolated_store) == len(sample_rows()) + 10


def test_foreign_parquet(cli, isolated_store, seeded, tmp_path) -> None:
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"sepal_length": [5.1, 4.9], "species": ["setosa", "setosa"]}), other)
    fails_cleanly(cli, isolated_store, seeded, other,
                  "other.parquet: row 1: cannot detect the log format")
    not_parquet = tmp_path / "fake.parquet"
    not_parquet.write_bytes(b"PAR1" + b"\x00garbage" * 50)
    fails_cleanly(cli, isolated_store, seeded, not_parquet, "fake.parquet: not a readable Parquet file")
    result = cli("ingest", "--skip-bad", str(other), str(not_parquet), str(SAMPLE_JSONL))
    assert result.exit_code == 0 and "2 unreadable file(s)" in result.stderr
    assert spans(isolated_store) == 2 * len(sample_rows())


# --- many bad lines, options, and tracebacks -----------------------------------------------


def test_skip_bad_names_the_first_few_and_counts_all(cli, isolated_store, tmp_path) -> None:
    good = lines()
    parts = []
    for i in range(40):
        parts += [good[i % len(good)].replace(b'"id": "', f'"id": "{i}-'.encode()), b"{broken"]
    path = write(tmp_path / "many.jsonl", parts)
    result = cli("ingest", "--skip-bad", str(path))
    assert result.exit_code == 0
    assert "skipped 40 bad record(s)" in result.stderr and "… and 35 more" in result.stderr
    assert [line.strip().split(":")[1] for line in result.stderr.splitlines() if "many.jsonl:" in line] == [
        "2", "4", "6", "8", "10"]
    assert spans(isolated_store) == 40


def test_rejects_needs_skip_bad(cli, tmp_path) -> None:
    result = cli("ingest", "--rejects", str(tmp_path / "r"), str(SAMPLE_JSONL))
    assert result.exit_code == 2 and "--rejects needs --skip-bad" in result.stderr


def test_no_such_file_and_unknown_format(cli, tmp_path) -> None:
    for args, text in ((["ingest", str(tmp_path / "missing.jsonl")], "no such file"),
                       (["ingest", str(tmp_path / "*.nothing")], "no file matches"),
                       (["ingest", "--format", "nope", str(SAMPLE_JSONL)], "unknown format")):
        result = cli(*args)
        assert result.exit_code == 3 and text in result.stderr and "Traceback" not in result.output


def test_debug_shows_a_traceback_and_default_does_not(isolated_store, tmp_path) -> None:
    bad = write(tmp_path / "bad.jsonl", [lines()[0], b"{oops"])
    plain = subprocess.run([sys.executable, "-m", "tracecli", "ingest", str(bad)],
                           capture_output=True, text=True)
    debug = subprocess.run([sys.executable, "-m", "tracecli", "--debug", "ingest", str(bad)],
                           capture_output=True, text=True)
    assert plain.returncode == debug.returncode == 3
    assert "Traceback" not in plain.stderr and plain.stderr.count("\n") == 1
    assert "Traceback" in debug.stderr and "bad.jsonl:2: not valid JSON" in debug.stderr


def test_bad_line_on_stdin_is_named_as_stdin(cli, isolated_store, seeded) -> None:
    data = b"\n".join([*lines()[:2], b"{oops", *lines()[2:]]) + b"\n"
    result = cli("ingest", "-", input=data)
    assert result.exit_code == 3 and "<stdin>:3: not valid JSON" in result.stderr
    assert snapshot(isolated_store) == seeded
    result = cli("ingest", "--skip-bad", "-", input=data)
    assert result.exit_code == 0 and "<stdin>:3:" in result.stderr
    assert spans(isolated_store) == 2 * len(sample_rows())


def test_damaged_gzip(cli, isolated_store, seeded, tmp_path) -> None:
    whole = bytearray(gzip.compress(b"\n".join(lines() * 40) + b"\n"))
    whole[len(whole) // 2:len(whole) // 2 + 64] = b"\xff" * 64
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(bytes(whole))
    fails_cleanly(cli, isolated_store, seeded, path, "damaged.jsonl.gz:", "compressed stream breaks off")
    result = cli("ingest", "--skip-bad", str(path))
    assert result.exit_code == 0 and "compressed stream breaks off" in result.stderr
