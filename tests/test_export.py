"""`tracecli export`: everything a store holds that an ingest restores. Ingested into an empty
store it gives the same traces, trees, costs, spans and feedback; ingested again it adds
nothing; filters pick whole traces with their feedback; output is written whole or fails with
one line."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import (
    ROOT,
    SAMPLE_FEEDBACK,
    SAMPLE_JSONL,
    Invoke,
    Stored,
)
from tests.test_formats import CASES, FORMATS, IDS, REFERENCE_CALLS
from tracecli.cli.main import app
from tracecli.environment import Environment

REFERENCE = "trc_7f3a2c91e4b0"


def run_ok(cli: Invoke, *args: str, input: str | None = None) -> tuple[str, str]:
    result = cli(*args, input=input)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout, result.stderr


def views(cli: Invoke, db: Path | None = None) -> dict[str, str]:
    """What the read commands say about a store (the test's own when `db` is None)."""
    where = ("--db", str(db)) if db else ()
    out = {name: run_ok(cli, *args, *where)[0] for name, args in {
        "traces": ("traces", "--format", "json", "--limit", "0"),
        "spans": ("spans", "--format", "jsonl"),
        "cost by model": ("cost", "--by", "model", "--format", "json"),
        "cost by trace": ("cost", "--by", "trace", "--format", "json"),
        "cost by tag": ("cost", "--by", "tag", "--format", "json"),
    }.items()}
    for trace in json.loads(out["traces"]):
        tid = trace["trace_id"]
        out[f"show {tid}"] = run_ok(cli, "show", tid, "--format", "json", "--all-spans", *where)[0]
        out[f"show {tid} table"] = run_ok(cli, "show", tid, "--full", *where)[0]
    out["export"] = "".join(sorted(run_ok(cli, "export", *where)[0].splitlines(keepends=True)))
    return out


def brief(cli: Invoke, db: Path | None = None) -> tuple[str, str]:
    """The traces and spans of a store: what a re-ingest that added something would change."""
    where = ("--db", str(db)) if db else ()
    return (run_ok(cli, "traces", "--format", "json", "--limit", "0", *where)[0],
            run_ok(cli, "spans", "--format", "jsonl", *where)[0])


def restore(cli: Invoke, export: Path, db: Path) -> str:
    """Ingest an export into `db`; the ingest's summary."""
    return run_ok(cli, "ingest", str(export), "--db", str(db))[1]


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.split("\n") if line]


def test_sample_logs_and_feedback_round_trip(cli: Invoke, stored: Stored, tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL), str(SAMPLE_FEEDBACK))
    export = tmp_path / "store.jsonl"
    stdout, stderr = run_ok(cli, "export", "--output", str(export))
    assert stdout == ""
    assert stderr.strip() == f"exported 15 spans, 3 feedback records to {export}"
    records = lines(export.read_text())
    assert len(records) == 18
    feedback = [r for r in records if "value" in r]
    assert [r["value"] for r in feedback] == [9.0, 5.0, -4.0]  # feedback first, as stored
    assert {r["source_file"] for r in feedback} == {str(SAMPLE_FEEDBACK)}  # provenance kept

    original = views(cli)
    other = tmp_path / "restored.duckdb"
    summary = restore(cli, export, other)
    # each line read by its own reader: feedback lines by the feedback reader alone
    assert "18 records (3 feedback, 15 tracecli)" in summary, summary
    assert "added 15 spans in 8 traces" in summary and "added 3 feedback" in summary
    restored = views(cli, other)
    assert restored == original
    traces = {t["trace_id"]: t for t in json.loads(restored["traces"])}
    assert (traces[REFERENCE]["feedback_score"], traces[REFERENCE]["feedback_count"]) == (9.0, 1)
    assert "feedback +9.0 (1 vote)" in restored[f"show {REFERENCE} table"]

    # record keys round-trip: again into the restored store, and into the original, nothing new
    for db in (other, None):
        again = run_ok(cli, "ingest", str(export), *(("--db", str(db)) if db else ()))[1]
        assert "added 0 spans" in again and "18 already stored" in again, again
        assert "added 3 feedback" not in again
    assert brief(cli, other) == brief(cli) == (original["traces"], original["spans"])


def test_export_lines_are_the_spans_listing_and_feedback(cli: Invoke, stored: Stored) -> None:
    stored(str(SAMPLE_JSONL), str(SAMPLE_FEEDBACK))
    exported = lines(run_ok(cli, "export")[0])
    spans = lines(run_ok(cli, "spans", "--format", "jsonl")[0])
    by_key = {str(r["record_key"]): r for r in exported if "span_id" in r}
    assert by_key == {str(r["record_key"]): r for r in spans} and len(by_key) == len(spans)
    fb = [r for r in exported if "span_id" not in r]
    assert all(set(r) == {"id", "trace_id", "value", "weight", "metadata", "created_at",
                          "source_file", "source_row"} for r in fb)
    # claimed by the feedback reader alone: a trace id, a number, and nothing of a call
    assert not any({"request", "response", "span_id", "ai_model", "model", "messages",
                    "record_key", "source_format"} & set(r) for r in fb)
    assert all(isinstance(r["value"], float) for r in fb)


@pytest.mark.parametrize(("case", "path", "trace", "fmt"), CASES, ids=IDS)
def test_every_format_round_trips(cli: Invoke, stored: Stored, tmp_path: Path,
                                  case: str, path: str, trace: str, fmt: str) -> None:
    stored(str(FORMATS / path))
    export = tmp_path / "export.jsonl"
    export.write_text(run_ok(cli, "export")[0])
    other = tmp_path / "restored.duckdb"
    restore(cli, export, other)
    restored = views(cli, other)
    assert restored == views(cli)
    tree = json.loads(restored[f"show {trace}"])
    assert tree["trace"]["llm_calls"] == 4 and tree["trace"]["tool_calls"] == 3
    again = restore(cli, export, other)
    # content rows (an OTLP logs file's messages) stored before are no addition either
    records = len(lines(export.read_text()))
    assert "added 0 spans in 0 traces" in again and f"{records:,} already stored" in again, again
    assert brief(cli, other) == (restored["traces"], restored["spans"])


def test_content_waiting_for_its_spans_is_exported(cli: Invoke, stored: Stored,
                                                   tmp_path: Path) -> None:
    """OTLP log records ingested before their traces: the content waits in the store, and an
    export carries it, so the restored store still joins it to the spans that come later."""
    trace = "5cf92f3577b34da6a3ce929d0e0e4737"
    stored(str(FORMATS / "otlp" / "split" / "logs.jsonl"))
    export = tmp_path / "export.jsonl"
    stdout, stderr = run_ok(cli, "export")
    export.write_text(stdout)
    assert "exported 0 spans, 0 feedback records, 4 content records waiting for their spans" in stderr
    assert {r["kind"] for r in lines(stdout)} == {"content"}
    other = tmp_path / "restored.duckdb"
    restore(cli, export, other)
    traces = str(FORMATS / "otlp" / "split" / "traces.jsonl")
    for db in (other, None):
        run_ok(cli, "ingest", traces, *(("--db", str(db)) if db else ()))
    restored = views(cli, other)
    assert restored == views(cli)
    tree = json.loads(restored[f"show {trace}"])
    calls = [n for n in tree["spans"][0]["children"] if n["kind"] == "llm"]
    assert [(c["name"], c["arguments"], c["result"]) for n in calls for c in n["tool_calls"]] \
        == REFERENCE_CALLS
    assert tree["answer"].endswith("is 76,527,504.")


def test_filters_pick_whole_traces_with_their_feedback(cli: Invoke, stored: Stored,
                                                       tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL), str(SAMPLE_FEEDBACK))
    one = lines(run_ok(cli, "export", "--trace", "trc_7f3a")[0])  # a prefix is enough
    assert {r["trace_id"] for r in one} == {REFERENCE}
    assert len(one) == 4 + 1 and [r["value"] for r in one if "value" in r] == [9.0]

    export = tmp_path / "math.jsonl"
    run_ok(cli, "export", "--tag", "feature=math-agent", "--output", str(export))
    other = tmp_path / "math.duckdb"
    restore(cli, export, other)
    picked = json.loads(run_ok(cli, "traces", "--format", "json", "--db", str(other))[0])
    wanted = json.loads(run_ok(cli, "traces", "--format", "json", "--tag", "feature=math-agent")[0])
    assert picked == wanted and len(picked) == 3
    assert sum(t["feedback_count"] for t in picked) == 2

    # --model picks the traces that called it, every span of them (as `traces` does)
    rag = lines(run_ok(cli, "export", "--model", "text-embedding-3-small")[0])
    assert {r["trace_id"] for r in rag} == {"trc_rag_5d21c0"}
    assert {r["model"] for r in rag} == {"text-embedding-3-small", "gpt-4o"}
    assert run_ok(cli, "export", "--since", "2030-01-01")[0] == ""
    assert cli("export", "--trace", "nope").exit_code == 4


def test_pipe_into_ingest_and_from_any_format(cli: Invoke, tmp_path: Path) -> None:
    """`tracecli export --from FILE` turns any format into tracecli's own, and `ingest -`
    reads a piped export."""
    stdout, _ = run_ok(cli, "export", "--from", str(SAMPLE_JSONL), "--from", str(SAMPLE_FEEDBACK))
    other = tmp_path / "piped.duckdb"
    summary = run_ok(cli, "ingest", "-", "--db", str(other), input=stdout)[1]
    assert "18 records (3 feedback, 15 tracecli)" in summary, summary
    direct = run_ok(cli, "traces", "--format", "json", "--from", str(SAMPLE_JSONL),
                    "--from", str(SAMPLE_FEEDBACK))[0]
    assert run_ok(cli, "traces", "--format", "json", "--db", str(other))[0] == direct


def test_unknown_values_and_microseconds_round_trip(cli: Invoke, stored: Stored,
                                                    tmp_path: Path) -> None:
    """Feedback whose value the store holds as unknown still counts after a round trip, and a
    time with microseconds is the same time again (re-ingest finds records by key and time)."""
    feedback = tmp_path / "odd_feedback.jsonl"
    feedback.write_text(
        f'{{"trace_id": "{REFERENCE}", "value": 1e400, "weight": 0.5}}\n'
        f'{{"trace_id": "{REFERENCE}", "value": 3, "created_at": "2025-03-04T10:16:10.123456Z"}}\n')
    stored(str(SAMPLE_JSONL), str(feedback))
    stdout = run_ok(cli, "export", "--trace", REFERENCE)[0]
    fb = [r for r in lines(stdout) if "value" in r]
    assert [r["created_at"] for r in fb] == [None, "2025-03-04T10:16:10.123456Z"]
    assert '"value":1e400' in stdout
    export = tmp_path / "export.jsonl"
    export.write_text(stdout)
    other = tmp_path / "restored.duckdb"
    restore(cli, export, other)
    for db in (other, None):
        shown = run_ok(cli, "show", REFERENCE, "--format", "json",
                       *(("--db", str(db)) if db else ()))[0]
        trace = json.loads(shown)["trace"]
        assert (trace["feedback_score"], trace["feedback_count"]) == (3 / 1.5, 2)
    for db in (other, None):
        again = run_ok(cli, "ingest", str(export), *(("--db", str(db)) if db else ()))[1]
        assert "6 already stored" in again and "feedback;" not in again, again


def test_output_file_is_replaced_whole(cli: Invoke, stored: Stored, tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    export = tmp_path / "export.jsonl"
    export.write_text("old\n")
    run_ok(cli, "export", "-o", str(export))
    assert len(lines(export.read_text())) == 15
    assert sorted(p.name for p in tmp_path.iterdir() if "export" in p.name) == ["export.jsonl"]
    run_ok(cli, "export", "-o", os.devnull)  # a device is written, never replaced
    assert Path(os.devnull).is_char_device()


def test_unwritable_output_is_one_line_and_an_error(cli: Invoke, stored: Stored,
                                                    isolated_store: Path, tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    targets = [(tmp_path / "missing" / "x.jsonl", "No such file or directory")]
    if Path("/dev/full").exists():  # a device that is always full (Linux)
        targets.append((Path("/dev/full"), "No space left on device"))
    for target, why in targets:
        result = cli("export", "--output", str(target))
        assert result.exit_code == 1, result.stderr
        assert result.stderr == f"tracecli: error: --output {target}: {why}\n"
    result = cli("export", "--output", str(isolated_store))
    assert result.exit_code == 2 and "is the store itself" in result.stderr
    assert isolated_store.stat().st_size > 0


def _subprocess_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _small_files() -> None:
    """In the child: files it writes may not grow past a few KB, and growing one fails."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_an_export_that_fails_half_way_leaves_the_file_as_it_was(
        stored: Stored, isolated_store: Path, tmp_path: Path) -> None:
    stored(str(SAMPLE_JSONL))
    export = tmp_path / "export.jsonl"
    export.write_text("the previous export\n")
    proc = subprocess.run([sys.executable, "-m", "tracecli", "export", "--db", str(isolated_store),
                           "--output", str(export)], capture_output=True, text=True,
                          env=_subprocess_env(), preexec_fn=_small_files, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == f"tracecli: error: --output {export}: File too large\n"
    assert export.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir() if "export" in p.name] == ["export.jsonl"]


def test_a_closed_pipe_is_one_line_and_an_error(stored: Stored, isolated_store: Path) -> None:
    """The reader went away before the export ended: what it got is not the store."""
    stored(str(SAMPLE_JSONL))
    proc = subprocess.Popen([sys.executable, "-m", "tracecli", "export", "--db", str(isolated_store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_subprocess_env())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child has imported anything, let alone written
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert stderr == "tracecli: error: output closed before the export ended: it is incomplete\n"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_escapes_pipes_get_the_exact_text(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    content = "red \x1b[31m, CSI \x9b2J, override \u202e!"
    path.write_text(json.dumps({
        "trace_id": "t-odd", "request": {"model": "gpt-4o-mini",
                                         "messages": [{"role": "user", "content": content}]},
        "response": {"choices": [{"message": {"role": "assistant", "content": "ok"}}]}}) + "\n")
    written = {}
    for name, stream in (("tty", FakeTTY()), ("pipe", io.StringIO())):
        env = Environment.of(io.StringIO(), stream, io.StringIO(), {})
        result = CliRunner().invoke(app, ["export", "--from", str(path)], obj=env,
                                    catch_exceptions=False)
        assert result.exit_code == 0
        written[name] = stream.getvalue()
    assert "\u202e" in written["pipe"] and "\x9b" in written["pipe"]
    assert not {"\x1b", "\x9b", "\u202e"} & set(written["tty"])
    assert lines(written["tty"]) == lines(written["pipe"])
    assert lines(written["pipe"])[0]["request"]["messages"][0]["content"] == content
