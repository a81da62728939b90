"""Golden files: what every read command prints, byte for byte, on the samples and on every
format fixture. A change that alters output shows here as a diff; one that means to refreshes
them with `UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and commits the diff."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REFERENCE_TRACE, ROOT
from tracecli.cli.main import app

GOLDEN = Path(__file__).parent / "golden"
FIXTURES = "tests/fixtures/formats"
FORMATS = ("table", "json", "jsonl", "csv", "markdown")

# (golden name, the command's arguments) over the bundled samples
SAMPLE_CASES: list[tuple[str, list[str]]] = [
    *[(f"traces.{f}", ["traces", "--limit", "0", "--format", f]) for f in FORMATS],
    ("traces.filtered.table", ["traces", "--tag", "env=prod", "--status", "ok", "--limit", "3"]),
    *[(f"cost-by-{by.replace(':', '-')}.{f}", ["cost", "--by", by, "--format", f])
      for by in ("model", "tag", "tag:env") for f in FORMATS],
    *[(f"cost-by-{by}.table", ["cost", "--by", by]) for by in ("provider", "trace", "day", "kind")],
    ("cost-filtered.json", ["cost", "--by", "model", "--tag", "env=prod", "--format", "json"]),
    ("cost-prices-table.json", ["cost", "--by", "model", "--prices", "table", "--format", "json"]),
    *[(f"show-reference.{f}", ["show", REFERENCE_TRACE, "--format", f]) for f in FORMATS],
    ("show-reference-full.table", ["show", REFERENCE_TRACE, "--full"]),
    ("show-reference-full.markdown", ["show", REFERENCE_TRACE, "--full", "--format", "markdown"]),
    ("show-reference-all-spans.table", ["show", REFERENCE_TRACE, "--all-spans"]),
    ("show-cache-retries.table", ["show", "trc_b81d0e55a7c2"]),
    ("show-failed.table", ["show", "trc_fail", "--full"]),
    ("show-rag.table", ["show", "trc_rag", "--full"]),
    *[(f"replay-reference.{f}", ["replay", REFERENCE_TRACE, "--speed", "0", "--format", f])
      for f in FORMATS],
    *[(f"spans.{f}", ["spans", "--format", f]) for f in FORMATS],
    ("spans-trace.table", ["spans", "--trace", REFERENCE_TRACE]),
    ("formats.table", ["formats"]),
    ("formats.json", ["formats", "--format", "json"]),
]

# (golden name stem, fixture path, trace id) per format fixture, as tests/test_formats.py reads them
FORMAT_CASES = [
    ("otlp", "otlp/genai_traces.jsonl", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ("otlp-array", "otlp/span_array.json", "6df92f3577b34da6a3ce929d0e0e4738"),
    ("otlp-split", "otlp/split", "5cf92f3577b34da6a3ce929d0e0e4737"),
    ("openinference", "openinference/langchain_traces.jsonl", "7ef92f3577b34da6a3ce929d0e0e4739"),
    ("phoenix-parquet", "openinference/phoenix_spans.parquet", "8ff92f3577b34da6a3ce929d0e0e473a"),
    ("phoenix-json", "openinference/phoenix_spans.json", "9af92f3577b34da6a3ce929d0e0e473b"),
    ("litellm", "litellm/payloads.jsonl", "litellm-trace-7f3a2c91"),
    ("litellm-s3", "litellm/s3", "litellm-trace-b81d0e55"),
    ("litellm-spendlogs", "litellm/spend_logs.jsonl", "litellm-session-c3d9"),
    ("langsmith", "langsmith/runs.jsonl", "a1000000-7a1b-4c2d-8e3f-0123456789ab"),
    ("langsmith-parquet", "langsmith/runs_export.parquet", "b2000000-7a1b-4c2d-8e3f-0123456789ab"),
    ("langfuse-download", "langfuse/trace_download.json", "lf-trace-7f3a2c91"),
    ("langfuse-export", "langfuse/observations.jsonl", "lf-trace-b81d0e55"),
]
FIXTURE_CASES: list[tuple[str, list[str]]] = [
    *[(f"fixtures-traces.{f}", ["traces", "--limit", "0", "--format", f]) for f in ("table", "json")],
    ("fixtures-cost-by-model.json", ["cost", "--by", "model", "--format", "json"]),
    ("fixtures-cost-by-tag.table", ["cost", "--by", "tag"]),
    ("fixtures-spans.jsonl", ["spans", "--format", "jsonl", "--limit", "0"]),  # every span
    *[(f"fixture-{stem}-show.{f}", ["show", trace, *extra])
      for stem, _, trace in FORMAT_CASES
      for f, extra in (("table", []), ("full.table", ["--full"]), ("json", ["--format", "json"]))],
    *[(f"fixture-{stem}-replay.table", ["replay", trace, "--speed", "0"])
      for stem, _, trace in FORMAT_CASES],
]


def _store(tmp: Path, *paths: str) -> Path:
    """A store of these inputs, ingested with paths relative to the repository (so the
    provenance columns read the same on every checkout)."""
    db = tmp / "store.duckdb"
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, ["ingest", "--db", str(db), *paths], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.stderr
    return db


@pytest.fixture(scope="session")
def samples_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _store(tmp_path_factory.mktemp("golden-samples"), "sample_logs/")


@pytest.fixture(scope="session")
def fixtures_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _store(tmp_path_factory.mktemp("golden-fixtures"),
                  *[f"{FIXTURES}/{path}" for _, path, _ in FORMAT_CASES])


def _check(db: Path, name: str, args: list[str], tmp_path: Path) -> None:
    # each case reads a copy: a read never changes the store, and cases stay independent
    copy = tmp_path / "golden.duckdb"
    shutil.copy(db, copy)
    store = [] if args[0] == "formats" else ["--db", str(copy)]  # `formats` reads no store
    result = CliRunner().invoke(app, [*args, *store], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(result.stdout)
    assert path.exists(), f"no golden file {path.name}: run with UPDATE_GOLDEN=1 to write it"
    assert result.stdout == path.read_text(), f"{' '.join(args)} differs from {path.name}"


@pytest.mark.parametrize(("name", "args"), SAMPLE_CASES, ids=[c[0] for c in SAMPLE_CASES])
def test_sample_output_matches_golden(samples_db: Path, name: str, args: list[str],
                                      tmp_path: Path) -> None:
    _check(samples_db, name, args, tmp_path)


@pytest.mark.parametrize(("name", "args"), FIXTURE_CASES, ids=[c[0] for c in FIXTURE_CASES])
def test_fixture_output_matches_golden(fixtures_db: Path, name: str, args: list[str],
                                       tmp_path: Path) -> None:
    _check(fixtures_db, name, args, tmp_path)
