"""Records routed one by one: any concatenation of supported formats, in one file or on stdin,
reads as the same records read from separate files, and a record is never read by the wrong
reader (tracecli.ingest.routing)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE_JSONL, SAMPLES, Invoke, Stored
from tests.test_formats import CASES, FORMATS
from tracecli.cli.main import app
from tracecli.ingest import routing
from tracecli.ingest.formats import registry
from tracecli.ingest.formats.base import Keys
from tracecli.sql.template import fill, literal

FEEDBACK = SAMPLES / "feedback" / "portkey_feedback.jsonl"

# Every JSON fixture of every format (Parquet cannot be concatenated), by a short name.
STREAMS = {"portkey": SAMPLE_JSONL, "feedback": FEEDBACK,
           **{case: FORMATS / path for case, path, _, _ in CASES if not path.endswith(".parquet")}}
# One fixture of each reader, for the pairs: every pair of formats, feedback included.
ONE_EACH = {fmt: case for case, _, _, fmt in reversed(CASES) if case in STREAMS}
ONE_EACH.update(portkey="portkey", feedback="feedback")


def records(path: Path) -> list[str]:
    """The file's (or folder's) records, one JSON text each: what a CI job's `cat` gives."""
    if path.is_dir():
        return [line for child in sorted(path.rglob("*")) if child.is_file()
                for line in records(child)]
    if path.suffix == ".jsonl":
        return [line for line in path.read_text().splitlines() if line.strip()]
    value = json.loads(path.read_text())
    return [json.dumps(v) for v in (value if isinstance(value, list) else [value])]


def stream(*names: str) -> str:
    return "".join(line + "\n" for name in names for line in records(STREAMS[name]))


def traces(cli: Invoke) -> dict[str, dict[str, Any]]:
    """What a user reads off a store, by trace: calls, tool calls, tokens, cost, status, tags
    and feedback."""
    listed = json.loads(cli("traces", "--limit", "0", "--format", "json").stdout)
    return {t["trace_id"]: t for t in listed}


def feedback_rows(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT trace_id, value, weight, metadata FROM feedback "
                           "ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def apart(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every stream ingested from its own files, into one store: its traces by the stream
    they came from, and its feedback records."""
    runner = CliRunner()
    db = tmp_path_factory.mktemp("apart") / "store.duckdb"
    env = {"TRACECLI_DB": str(db), "NO_COLOR": "1"}
    result = runner.invoke(app, ["ingest", *[str(p) for p in STREAMS.values()]], env=env)
    assert result.exit_code == 0, result.stderr
    listed = json.loads(runner.invoke(app, ["traces", "--limit", "0", "--format", "json"],
                                      env=env).stdout)
    with duckdb.connect(str(db), read_only=True) as con:
        files = dict(con.execute("SELECT trace_id, list(DISTINCT source_file) FROM spans "
                                 "GROUP BY ALL").fetchall())
    by_stream = {name: {t["trace_id"]: t for t in listed
                        if any(f.startswith(str(path)) for f in files[t["trace_id"]])}
                 for name, path in STREAMS.items()}
    return {"traces": by_stream, "feedback": feedback_rows(db)}


# Feedback scores a trace where both are read; alone, each reads without the other's part.
WITHOUT_FEEDBACK = ("feedback_score", "feedback_count")


def expected(apart: dict[str, Any], names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    found = {k: v for name in names for k, v in apart["traces"][name].items()}
    if "feedback" in names:
        return found
    return {k: {**v, **dict.fromkeys(WITHOUT_FEEDBACK)} for k, v in found.items()}


def scored(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {**v, **{f: v.get(f) or None for f in WITHOUT_FEEDBACK}} for k, v in found.items()}


PAIRS = list(itertools.combinations(sorted(ONE_EACH.values()), 2))


@pytest.mark.parametrize("names", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_a_concatenated_pair_reads_as_the_files_apart(
        cli: Invoke, isolated_store: Path, apart: dict[str, Any], names: tuple[str, ...]) -> None:
    result = cli("ingest", "-", input=stream(*names))
    assert result.exit_code == 0, result.stderr
    assert scored(traces(cli)) == scored(expected(apart, names))
    assert feedback_rows(isolated_store) == (apart["feedback"] if "feedback" in names else [])


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_every_fixture_in_one_stream_reads_as_the_files_apart(
        cli: Invoke, isolated_store: Path, apart: dict[str, Any], order: str) -> None:
    names = sorted(STREAMS) if order == "forward" else sorted(STREAMS)[::-1]
    result = cli("ingest", "-", input=stream(*names))
    assert result.exit_code == 0, result.stderr
    assert traces(cli) == expected(apart, tuple(names))
    assert feedback_rows(isolated_store) == apart["feedback"]


def test_the_readme_ci_pipe_shows_the_run_and_its_feedback(cli: Invoke, isolated_store: Path) -> None:
    text = cli("show", "trc_7f3a", "--from", "-", input=stream("portkey", "feedback")).stdout
    assert "4 LLM calls" in text and "3.76 s" in text and "feedback +9.0" in text
    assert "answer: The result of taking 3" in text and "comment" not in text


# --- a file of one format whose foreign records come after the first ones labelled -----------


def long_file(tmp_path: Path, tail: str) -> Path:
    """More records than routing labels up front (all Portkey), then `tail`."""
    lines = records(SAMPLE_JSONL)
    copies = routing.HEAD // len(lines) + 1
    path = tmp_path / "long.jsonl"
    path.write_text("".join(line + "\n" for line in lines * copies) + tail + "\n")
    return path


def test_a_foreign_record_past_the_head_is_read_by_its_own_reader(
        cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    path = long_file(tmp_path, records(FEEDBACK)[0])
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr
    assert "1 feedback" in result.stderr
    assert len(feedback_rows(isolated_store)) == 1
    traces = json.loads(cli("traces", "--format", "json").stdout)
    assert sum(t["llm_calls"] for t in traces) == 14  # 15 Portkey rows, one of them a retry


@pytest.mark.parametrize("head", sorted(ONE_EACH.values()))
def test_every_other_format_past_the_head_of_one_is_read_by_its_own_reader(
        cli: Invoke, isolated_store: Path, apart: dict[str, Any], tmp_path: Path, head: str) -> None:
    """Whatever the head's reader keeps or drops as it maps its records (a span id, a
    resource), a record of another format after the head reaches the check and is read."""
    lines = records(STREAMS[head])
    others = sorted(set(ONE_EACH.values()) - {head})
    path = tmp_path / "long.jsonl"
    path.write_text("".join(line + "\n" for line in lines * (routing.HEAD // len(lines) + 1))
                    + stream(*others))
    result = cli("ingest", str(path))
    assert result.exit_code == 0, result.stderr

    def unscored(found: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {k: {f: v for f, v in t.items() if f not in WITHOUT_FEEDBACK} for k, t in found.items()}

    assert unscored(traces(cli)) == unscored(expected(apart, (head, *others)))
    # feedback records have no id: each copy of the head is one more
    assert sorted({repr(row) for row in feedback_rows(isolated_store)}) == sorted(map(repr, apart["feedback"]))


@pytest.mark.parametrize("head", sorted(ONE_EACH.values()))
def test_a_folder_whose_first_file_is_of_one_format_reads_every_file_right(
        cli: Invoke, isolated_store: Path, apart: dict[str, Any], tmp_path: Path, head: str) -> None:
    """Small files are trusted to the first one's reader and read together: a file of another
    format among them is still read by its own reader, never dropped."""
    others = sorted(set(ONE_EACH.values()) - {head})
    for number, name in enumerate([head, *others]):
        (tmp_path / f"{number:02d}-{name}.jsonl").write_text(stream(name))
    result = cli("ingest", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert scored(traces(cli)) == scored(expected(apart, (head, *others)))
    assert feedback_rows(isolated_store) == apart["feedback"]


def test_an_unclaimed_record_past_the_head_is_named_by_its_line(
        cli: Invoke, isolated_store: Path, tmp_path: Path) -> None:
    path = long_file(tmp_path, '{"hello": "world"}')
    line = len(path.read_text().splitlines())
    result = cli("ingest", str(path))
    assert result.exit_code == 3
    assert result.stderr == (f"tracecli: error: {path}:{line}: cannot detect the log format "
                             f"(record shape not recognised; tried "
                             f"{', '.join(r.name for r in registry.READERS)}); use --format\n")
    assert not isolated_store.exists() or json.loads(
        cli("traces", "--format", "json").stdout) == []
    rejects = tmp_path / "rejects.jsonl"
    result = cli("ingest", "--skip-bad", "--rejects", str(rejects), str(path))
    assert result.exit_code == 0, result.stderr
    assert "skipped 1" in result.stderr and f"long.jsonl:{line}" in result.stderr
    assert rejects.read_text() == '{"hello": "world"}\n'


def test_forced_format_still_reads_every_record_with_one_reader(cli: Invoke,
                                                                isolated_store: Path) -> None:
    result = cli("ingest", "--format", "portkey", "-", input=stream("portkey", "feedback"))
    assert result.exit_code == 0, result.stderr
    assert "18 portkey" in result.stderr  # the user asked: feedback lines read as Portkey rows


# --- claims -------------------------------------------------------------------------------


def claimed_by(con: duckdb.DuckDBPyConnection, path: Path) -> list[list[str]]:
    """Per record of the file, every reader whose claim alone holds (not only the first)."""
    columns = routing.label_columns()
    claims = ", ".join(fill("list_value({{claim}}, {{name}})",
                            claim=f"coalesce(({r.claims(Keys(columns))}), false)::VARCHAR",
                            name=literal(r.name)) for r in registry.READERS)
    rows = con.execute(fill("SELECT [c[2] FOR c IN [{{claims}}] IF c[1] = 'true'] FROM read_json("
                            "$path, columns = {{columns}}, format = 'newline_delimited')",
                            claims=claims, columns="{" + ", ".join(
                                f"{literal(k)}: 'JSON'" for k in columns) + "}"),
                       {"path": str(path)}).fetchall()
    return [row[0] for row in rows]


# The catch-all: any record with an OpenAI request body, when no reader of a named format (tried
# before it) claims it.
CATCH_ALL = "openai"


def test_each_record_is_claimed_by_exactly_one_reader(tmp_path: Path) -> None:
    """Not only by the first: two formats' claims never overlap, so the registry's order
    decides nothing but the catch-all."""
    con = duckdb.connect()
    for name in sorted(STREAMS):
        path = tmp_path / f"{name}.jsonl"
        path.write_text(stream(name))
        for number, found in enumerate(claimed_by(con, path), start=1):
            named = [r for r in found if r != CATCH_ALL] or found
            assert len(named) == 1, f"{name} record {number} is claimed by {found}"


def test_keys_a_claim_tests_as_json_are_json_in_every_reader() -> None:
    for claimant in registry.READERS:
        for key, as_json in routing.claim_keys(claimant).items():
            for reader in registry.READERS:
                if as_json and key in reader.columns:
                    assert reader.columns[key] == "JSON", (claimant.name, key, reader.name)
            for reader in registry.READERS:  # every relation can evaluate every claim
                reader.claims(Keys(routing.columns_for(reader)))


# --- folders of small files: read together, by one statement per reader --------------------


def small_files(folder: Path, *extra: tuple[str, str]) -> Path:
    """A folder of one-call JSON files as LiteLLM's S3 logger writes them, plus `extra` files
    (name, text) sorted after them."""
    folder.mkdir()
    for n, line in enumerate(records(FORMATS / "litellm" / "payloads.jsonl")):
        (folder / f"call-{n}.json").write_text(line)
    for name, text in extra:
        (folder / name).write_text(text)
    return folder


def test_a_folder_of_small_files_of_several_formats_reads_as_each_file_apart(
        cli: Invoke, stored: Stored, isolated_store: Path, tmp_path: Path) -> None:
    folder = small_files(tmp_path / "logs", ("zz-portkey.json", records(SAMPLE_JSONL)[0]),
                         ("zzz-feedback.json", records(FEEDBACK)[0]))
    files = sorted(str(p) for p in folder.iterdir())
    for path in files:
        result = cli("ingest", path)
        assert result.exit_code == 0, result.stderr
    apart = [traces(cli), feedback_rows(isolated_store)]
    isolated_store.unlink()
    result = cli("ingest", str(folder))
    assert result.exit_code == 0, result.stderr
    assert f"ingested {len(files)} file(s)" in result.stderr and "1 feedback" in result.stderr
    assert [traces(cli), feedback_rows(isolated_store)] == apart


def test_a_bad_file_among_small_files_is_named(cli: Invoke, isolated_store: Path,
                                              tmp_path: Path) -> None:
    folder = small_files(tmp_path / "logs", ("zz-cut.json", records(SAMPLE_JSONL)[0][:-9]),
                         ("zzz-odd.json", '{"hello": "world"}'))
    result = cli("ingest", str(folder))
    assert result.exit_code == 3 and "zz-cut.json" in result.stderr, result.stderr
    assert not isolated_store.exists() or traces(cli) == {}
    result = cli("ingest", "--skip-bad", str(folder))
    assert result.exit_code == 0, result.stderr
    assert "zz-cut.json" in result.stderr and "zzz-odd.json" in result.stderr
    listed = traces(cli)
    assert sum(t["llm_calls"] for t in listed.values()) == len(records(
        FORMATS / "litellm" / "payloads.jsonl"))
