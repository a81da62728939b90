"""Shell completion (Typer's): commands, options, `--by` groups and trace ids from the store,
asked for the way a shell asks, through the completion variables; a completion never fails
loudly and never creates a store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REFERENCE_TRACE, SAMPLE_JSONL
from tracecli.cli.main import app

SAMPLE_TRACES = {"trc_7f3a2c91e4b0", "trc_b81d0e55a7c2", "trc_fail_9e04b7", "trc_rag_5d21c0",
                 "trc_cl_41aa09", "trc_cl_52bb10", "trc_4o_63cc21", "trc_4o_74dd32"}


def complete(line: str, shell: str = "bash", **environ: str) -> tuple[list[str], str]:
    """What tracecli offers for the last word of `line` (empty after a trailing space), as
    bash's completion function asks (COMP_WORDS, COMP_CWORD) or zsh's (_TYPER_COMPLETE_ARGS):
    the candidates, and stderr."""
    words = line.split()
    if line.endswith(" "):
        words.append("")
    env = {"_TRACECLI_COMPLETE": f"complete_{shell}", "COMP_WORDS": line,
           "COMP_CWORD": str(len(words) - 1), "_TYPER_COMPLETE_ARGS": line, **environ}
    result = CliRunner().invoke(app, [], env=env, prog_name="tracecli", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout.split(), result.stderr


def test_commands_and_options() -> None:
    assert complete("tracecli sh")[0] == ["show"]
    assert {"traces", "stats", "spans"} <= set(complete("tracecli s")[0] + complete("tracecli t")[0])
    assert complete("tracecli show --wat")[0] == ["--waterfall"]
    assert "--install-completion" in complete("tracecli --")[0]


@pytest.mark.parametrize("command", ["show", "replay"])
def test_trace_ids_from_the_store(sample_store: None, command: str) -> None:
    offered, stderr = complete(f"tracecli {command} ")
    assert set(offered) == SAMPLE_TRACES and stderr == ""
    assert complete(f"tracecli {command} trc_7f")[0] == [REFERENCE_TRACE]
    assert set(complete(f"tracecli {command} trc_cl")[0]) == {"trc_cl_41aa09", "trc_cl_52bb10"}
    assert complete(f"tracecli {command} nope")[0] == []


def test_trace_ids_of_the_store_db_names(sample_store: None, isolated_store: Path,
                                         tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    isolated_store.rename(other)
    assert complete("tracecli show trc_7")[0] == []  # TRACECLI_DB names nothing now
    assert complete(f"tracecli show --db {other} trc_7")[0] == [REFERENCE_TRACE]
    assert complete("tracecli show trc_7", TRACECLI_DB=str(other))[0] == [REFERENCE_TRACE]


def test_zsh_shows_each_trace_id_with_its_start(sample_store: None) -> None:
    offered, _ = complete("tracecli show trc_7f", shell="zsh")
    assert "trc_7f3a2c91e4b0" in " ".join(offered) and "2025-03-04" in " ".join(offered)


def test_by_groups_and_tag_keys(sample_store: None) -> None:
    groups = ["model", "provider", "trace", "day", "kind", "tag"]
    for command in ("cost", "stats"):
        assert complete(f"tracecli {command} --by ")[0] == [
            *groups, "tag:_user", "tag:env", "tag:feature"]
        assert complete(f"tracecli {command} --by p")[0] == ["provider"]
    zsh = " ".join(complete("tracecli cost --by tag:e", shell="zsh")[0])  # bash splits at ':'
    assert "tag\\\\:env" in zsh and "feature" not in zsh and "model" not in zsh


def test_by_groups_without_a_store(isolated_store: Path) -> None:
    assert complete("tracecli cost --by t")[0] == ["trace", "tag"]
    assert not isolated_store.exists()


def test_no_store_completes_nothing_and_creates_none(isolated_store: Path, tmp_path: Path) -> None:
    assert complete("tracecli show ") == ([], "")
    missing = tmp_path / "typo" / "store.duckdb"
    assert complete("tracecli replay ", TRACECLI_DB=str(missing)) == ([], "")
    assert not isolated_store.exists() and not missing.parent.exists()


def test_a_file_that_is_no_store_completes_nothing(tmp_path: Path) -> None:
    assert complete("tracecli show ", TRACECLI_DB=str(SAMPLE_JSONL)) == ([], "")
    assert complete(f"tracecli replay --from {SAMPLE_JSONL} ")[0] == []  # --from is not read


def test_a_real_shell_request_lists_trace_ids(sample_store: None) -> None:
    """The console script as bash's completion function runs it."""
    env = {**os.environ, "_TRACECLI_COMPLETE": "complete_bash", "COMP_WORDS": "tracecli show trc_",
           "COMP_CWORD": "2"}
    proc = subprocess.run([sys.executable, "-m", "tracecli"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == SAMPLE_TRACES and proc.stderr == ""


def test_install_and_show_completion() -> None:
    result = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="tracecli")
    assert result.exit_code == 0
    assert "_TRACECLI_COMPLETE=complete_bash" in result.stdout
    assert "--install-completion" in CliRunner().invoke(app, ["--help"]).stdout
