"""Every user-supplied value reaches SQL as a parameter: injection attempts in every option
match nothing, change nothing, and fail (if at all) as plain usage or not-found errors."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SAMPLE_JSONL, Invoke

PAYLOADS = [
    "'; DROP TABLE spans; --",
    "x' OR '1'='1",
    "x') OR ('1'='1",
    '" OR 1=1 --',
    "trc_7f3a2c91e4b0' --",
    "%",
    "_",
    "\\",
    "$1",
    "?",
    "1; DELETE FROM trace_summary",
    "env=prod' OR 1=1 --",
    "'||(SELECT count(*) FROM spans)||'",
    "*/ DROP TABLE spans /*",
]
OPTIONS = [
    ["traces", "--model", "{}"], ["traces", "--tag", "{}={}"], ["traces", "--tag", "env={}"],
    ["traces", "--search", "{}"], ["traces", "--since", "{}"], ["traces", "--until", "{}"],
    ["traces", "--status", "{}"], ["traces", "--min-cost", "{}"],
    ["spans", "--trace", "{}"], ["spans", "--model", "{}"], ["spans", "--tag", "{}=x"],
    ["spans", "--since", "{}"],
    ["cost", "--by", "tag:{}"], ["cost", "--by", "{}"], ["cost", "--model", "{}"],
    ["cost", "--tag", "{}=prod"],
    ["show", "{}"], ["replay", "{}", "--speed", "0"],
    ["ingest", "--format", "{}", str(SAMPLE_JSONL)],
]


def _state(db: Path) -> tuple:
    with duckdb.connect(str(db), read_only=True) as con:
        return tuple(con.execute(sql).fetchall() for sql in (
            "SELECT table_name FROM information_schema.tables ORDER BY 1",
            "SELECT count(*) FROM spans", "SELECT count(*) FROM trace_summary",
            "SELECT count(*) FROM ingests"))


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: " ".join(o[:2]))
def test_injection_in_every_option(cli: Invoke, sample_store: None, isolated_store: Path,
                                   option: list[str]) -> None:
    before = _state(isolated_store)
    for payload in PAYLOADS:
        args = [a.replace("{}", payload) for a in option]
        if args[0] in ("traces", "spans", "cost"):
            args += ["--format", "json"]
        result = cli(*args)
        assert result.exit_code in (0, 2, 3, 4), (args, result.output)
        assert "internal error" not in result.stderr and "Traceback" not in result.output
        if result.exit_code == 0 and args[0] in ("traces", "spans") and args[1] != "--search":
            assert json.loads(result.stdout) == [], args  # a filter that matches nothing
        assert _state(isolated_store) == before, args


def test_search_is_literal_text(cli: Invoke, sample_store: None) -> None:
    """LIKE wildcards and quotes are plain characters to --search."""
    spans = json.loads(cli("spans", "--format", "json").stdout)
    for text in ("%", "_", "'", "' OR 1=1 --", "%_%"):
        literal = {s["trace_id"] for s in spans
                   if any(text.lower() in (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)).lower()
                          for v in (s.get("request"), s.get("response"), s.get("error")) if v is not None)}
        result = cli("traces", "--search", text, "--format", "json", "-n", "0")
        assert result.exit_code == 0
        assert {t["trace_id"] for t in json.loads(result.stdout)} == literal, text


def test_hostile_file_names_are_parameters_too(cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    name = tmp_path / "x'); DROP TABLE spans; --.jsonl"
    name.write_bytes(SAMPLE_JSONL.read_bytes())
    result = cli("ingest", str(name))
    assert result.exit_code == 0, result.output
    spans = json.loads(cli("spans", "--format", "json").stdout)
    assert len(spans) == 15 and {s["source_file"] for s in spans} == {str(name)}
