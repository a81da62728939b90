"""Every test gets its own store: TRACECLI_DB points into tmp_path, so no test touches a real one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tracecli.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
SAMPLE_JSONL = SAMPLES / "portkey_export.jsonl"
SAMPLE_PARQUET = SAMPLES / "portkey_export.parquet"
SAMPLE_FEEDBACK = SAMPLES / "feedback" / "portkey_feedback.jsonl"
REFERENCE_TRACE = "trc_7f3a2c91e4b0"


@pytest.fixture(autouse=True)
def isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "store.duckdb"
    monkeypatch.setenv("TRACECLI_DB", str(db))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TRACECLI_DEBUG", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return db


Invoke = Callable[..., Result]


@pytest.fixture
def cli() -> Invoke:
    """Run tracecli in-process; `input` feeds stdin."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def sample_store(cli: Invoke) -> None:
    """The README's quick start: every bundled sample file ingested."""
    result = cli("ingest", str(SAMPLES))
    assert result.exit_code == 0, result.stderr


def sample_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLE_JSONL.read_text().splitlines() if line.strip()]
