"""Records read more than once — a log that grew, files that overlap, a batch mixing new and
stored records — land once, and the store ends as if every record had been read once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Invoke, sample_rows

IGNORED = ("source_file", "source_row")  # where a record was read from differs by design


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _ingest(cli: Invoke, db: Path, *files: Path) -> str:
    result = cli("ingest", *map(str, files), "--db", str(db))
    assert result.exit_code == 0, result.stderr
    return result.stderr


def _store(cli: Invoke, db: Path) -> tuple[list[dict], list[dict], str]:
    """Spans, traces (summaries and tool calls counted) and the tree of every trace."""
    spans = [{k: v for k, v in json.loads(line).items() if k not in IGNORED}
             for line in cli("spans", "--db", str(db), "--format", "jsonl").stdout.splitlines()]
    traces = json.loads(cli("traces", "--db", str(db), "--format", "json", "--limit", "0").stdout)
    trees = "".join(cli("show", t["trace_id"], "--db", str(db)).stdout for t in traces)
    return sorted(spans, key=lambda s: s["record_key"]), traces, trees


@pytest.fixture(scope="module")
def once() -> dict[str, tuple[list[dict], list[dict], str]]:
    """What a store of every record read once holds: built by the first test that asks (in its
    own environment) and compared against by the others."""
    return {}


def _once(cli: Invoke, tmp_path: Path, memo: dict[str, tuple[list[dict], list[dict], str]]
          ) -> tuple[list[dict], list[dict], str]:
    if "store" not in memo:
        db = tmp_path / "once.duckdb"
        _ingest(cli, db, _write(tmp_path / "all.jsonl", sample_rows()))
        memo["store"] = _store(cli, db)
    return memo["store"]


def test_a_log_that_grew_adds_its_new_records(cli: Invoke, tmp_path: Path, once: dict) -> None:
    rows, db = sample_rows(), tmp_path / "grew.duckdb"
    _ingest(cli, db, _write(tmp_path / "part.jsonl", rows[:8]))
    summary = _ingest(cli, db, _write(tmp_path / "grown.jsonl", rows))
    assert f"added {len(rows) - 8} spans" in summary and "8 already stored" in summary
    assert _store(cli, db) == _once(cli, tmp_path, once)


def test_new_records_first_then_stored_ones(cli: Invoke, tmp_path: Path, once: dict) -> None:
    rows, db = sample_rows(), tmp_path / "mixed.duckdb"
    _ingest(cli, db, _write(tmp_path / "tail.jsonl", rows[5:]))
    summary = _ingest(cli, db, _write(tmp_path / "head_then_tail.jsonl", rows))
    assert "added 5 spans" in summary and f"{len(rows) - 5} already stored" in summary
    assert _store(cli, db) == _once(cli, tmp_path, once)


def test_overlapping_files_in_one_ingest_and_repeats_in_a_file(cli: Invoke, tmp_path: Path,
                                                                once: dict) -> None:
    rows, db = sample_rows(), tmp_path / "overlap.duckdb"
    a = _write(tmp_path / "a.jsonl", rows[:10] + rows[:3])
    b = _write(tmp_path / "b.jsonl", rows[6:])
    summary = _ingest(cli, db, a, b)
    assert f"added {len(rows)} spans" in summary and "7 already stored" in summary
    assert _store(cli, db) == _once(cli, tmp_path, once)
    assert "added 0 spans" in _ingest(cli, db, a, b)
