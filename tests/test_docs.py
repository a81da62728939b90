"""README promises: the two quick-start commands, every command documented, the pasted tree real."""

from __future__ import annotations

import inspect
import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT, SAMPLE_JSONL, Invoke
from tracecli.cli.main import app
from tracecli.environment import Environment

README = (ROOT / "README.md").read_text()
SNAPSHOT = Path(__file__).parent / "snapshots" / "show_reference.txt"


def test_quick_start_has_install_run_and_test_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert "pip install -e . && tracecli ingest sample_logs/ && tracecli show trc_7f3a2c91e4b0" in blocks
    assert "pip install -e '.[test]' && python -m pytest" in blocks
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text()


# name → command, as typer names them (a command registered without a name takes its function's)
COMMANDS = {c.name or c.callback.__name__.replace("_", "-"): c
            for c in app.registered_commands if c.callback}


def test_the_commands_are_found() -> None:
    assert {"ingest", "traces", "show", "cost", "replay", "spans", "formats"} <= set(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_documented(cli: Invoke, name: str) -> None:
    assert f"`tracecli {name}" in README, f"README.md never shows `tracecli {name} ...`"
    doc = inspect.getdoc(COMMANDS[name].callback)
    assert doc, f"`tracecli {name}` has no docstring"
    first = " ".join(doc.splitlines()[0].split())
    result = cli(name, "--help")
    assert result.exit_code == 0, result.output
    assert first in " ".join(result.stdout.split()), (first, result.stdout)  # however it wraps


def test_readme_tree_is_the_real_output() -> None:
    assert SNAPSHOT.read_text().strip() in README


def test_every_read_command_takes_from(cli: Invoke) -> None:
    for args in (["traces"], ["cost"], ["show", "trc_7f3a"], ["replay", "trc_7f3a", "--speed", "0"],
                 ["spans"]):
        result = cli(*args, "--from", str(SAMPLE_JSONL))
        assert result.exit_code == 0, (args, result.stderr)
        assert result.stdout.strip()


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color() -> None:
    def printed(stdout: io.StringIO, **environ: str) -> tuple[Environment, str]:
        env = Environment.of(io.StringIO(), stdout, io.StringIO(), {"COLUMNS": "200", **environ})
        result = CliRunner().invoke(app, ["formats"], obj=env, catch_exceptions=False)
        assert result.exit_code == 0 and result.stdout == ""  # all of it went to env.stdout
        assert "portkey" in stdout.getvalue()
        return env, stdout.getvalue()

    env, text = printed(FakeTTY())
    assert env.stdout_colour and "\x1b[" in text
    for env, text in (printed(io.StringIO()), printed(FakeTTY(), NO_COLOR="1")):
        assert not env.stdout_colour and "\x1b[" not in text
