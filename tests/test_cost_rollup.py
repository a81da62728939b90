"""`cost` without filters reads the ingest-time roll-up: it must say what a scan of the spans says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import SAMPLE_JSONL, Invoke, Stored, sample_rows
from tests.test_store_versions import _store_at
from tracecli.store.schema import MIGRATIONS

GROUPINGS = ["model", "provider", "kind", "day", "tag:env", "tag:team", "tag:absent"]


def _more_calls(path: Path) -> Path:
    """The sample's calls again under new ids, a day later, with other tags: one call with no
    tags, one with a tag whose value is null, one of a model no price table knows."""
    rows = sample_rows()
    for i, row in enumerate(rows):
        row["id"] = f"more-{i}"
        row["trace_id"] = f"more-{row['trace_id']}"
        row["created_at"] = row["created_at"].replace("2025-", "2026-")
        row["metadata"] = {"env": "prod", "team": "search" if i % 2 else "ads"}
        if i == 0:
            row["metadata"] = {}
        if i == 1:
            row["metadata"] = {"env": None, "team": "ads"}
        if i == 2:
            row["ai_model"], row["cost"] = "in-house-llm-7b", None
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _cost(cli: Invoke, by: str, *extra: str) -> list[dict[str, Any]]:
    """The groups, then the total row."""
    result = cli("cost", "--by", by, "--format", "json", *extra)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    return [*out["rows"], {"group": "TOTAL", **out["total"]}]


def _same(rolled: list[dict[str, Any]], scanned: list[dict[str, Any]]) -> None:
    assert [r["group"] for r in rolled] == [r["group"] for r in scanned]
    for a, b in zip(rolled, scanned, strict=True):
        assert a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, float):
                assert value == pytest.approx(b[key], rel=1e-12, abs=1e-15), (a["group"], key)
            else:
                assert value == b[key], (a["group"], key)


def _check_every_grouping(cli: Invoke) -> None:
    for by in GROUPINGS:
        # a filter that keeps every call makes `cost` scan the spans
        _same(_cost(cli, by), _cost(cli, by, "--since", "2000-01-01"))


def test_rollup_agrees_with_the_spans_across_ingests(cli: Invoke, stored: Stored,
                                                     tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    assert cli("ingest", str(_more_calls(tmp_path / "more.jsonl"))).exit_code == 0
    assert cli("ingest", str(SAMPLE_JSONL)).exit_code == 0  # adds nothing, counts nothing twice
    _check_every_grouping(cli)
    by_team = {r["group"]: r["calls"] for r in _cost(cli, "tag:team")}
    assert by_team["(none)"] == len(sample_rows()) + 1  # the sample has no team; one call no tags
    assert _cost(cli, "model")[-1]["calls"] == 2 * len(sample_rows())  # the total row


def test_a_store_from_before_the_rollup_gets_one_on_migrating(cli: Invoke, stored: Stored,
                                                             isolated_store: Path,
                                                             tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    before = _cost(cli, "tag:env")
    with duckdb.connect(str(isolated_store)) as con:  # as tracecli left it before the roll-up
        con.execute("DROP TABLE cost_rollup")
        con.execute("DELETE FROM schema_migrations WHERE version >= 7")
    _same(_cost(cli, "tag:env"), before)
    assert cli("ingest", str(_more_calls(tmp_path / "more.jsonl"))).exit_code == 0
    _check_every_grouping(cli)


def test_an_empty_store_costs_nothing(cli: Invoke, isolated_store: Path) -> None:
    _store_at(isolated_store, len(MIGRATIONS))
    for by in GROUPINGS:
        rows = _cost(cli, by)
        assert [r["group"] for r in rows] == ["TOTAL"] and rows[0]["calls"] == 0
        _same(rows, _cost(cli, by, "--since", "2000-01-01"))
