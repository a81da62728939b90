"""What the process offers a command: its streams, whether each is a terminal, and the variables
tracecli reads. Read once, when the CLI starts, and passed down, so that output decisions
(colour, width, pager, progress bars) are made in one place and a test can hand in its own."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TextIO

# Piped output is data for another program: it is cut to no terminal's width, whatever COLUMNS
# says (a shell that exports it speaks of the terminal, not of the pipe).
_PIPE_WIDTH = 1000
# Long tables on a terminal go through a pager, as git's do: PAGER, else less; less is told
# LESS=FRX (one screen: quit at once; colours; leave the screen) and LV=-c unless they are set.
DEFAULT_PAGER = "less -R"
_PAGER_DEFAULTS = {"LESS": "FRX", "LV": "-c"}


@dataclass(frozen=True)
class Environment:
    """Frozen: every part of a command sees the process as the CLI callback read it."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    stdin_isatty: bool
    stdout_isatty: bool
    stderr_isatty: bool
    no_color: bool  # NO_COLOR is set
    debug: bool  # --debug or TRACECLI_DEBUG: tracebacks for errors
    busy_wait: str | None  # TRACECLI_BUSY_WAIT as given: only commands that open a store parse it
    # Every variable, as it was: Rich reads its own (TERM, COLORTERM) from here, and
    # `replay --endpoint` the one --api-key-env names.
    environ: Mapping[str, str]

    @classmethod
    def of(cls, stdin: TextIO, stdout: TextIO, stderr: TextIO,
           environ: Mapping[str, str]) -> Environment:
        """The Environment these streams and variables make (a test builds its own)."""
        return cls(
            stdin=stdin, stdout=stdout, stderr=stderr,
            stdin_isatty=_isatty(stdin), stdout_isatty=_isatty(stdout),
            stderr_isatty=_isatty(stderr),
            no_color=bool(environ.get("NO_COLOR")),
            debug=bool(environ.get("TRACECLI_DEBUG")),
            busy_wait=environ.get("TRACECLI_BUSY_WAIT"),
            environ=MappingProxyType(dict(environ)),
        )

    @classmethod
    def current(cls) -> Environment:
        """The process as it is now: the streams current at the call (a test runner's swapped
        ones included) and os.environ."""
        return cls.of(sys.stdin, sys.stdout, sys.stderr, os.environ)

    @property
    def stdout_colour(self) -> bool:
        return self.stdout_isatty and not self.no_color

    @property
    def stderr_colour(self) -> bool:
        return self.stderr_isatty and not self.no_color

    @property
    def stdout_width(self) -> int | None:
        """None on a terminal, which knows its own width (COLUMNS, when set, says it); piped,
        wide enough for anything, COLUMNS or not."""
        return None if self.stdout_isatty else _PIPE_WIDTH

    @property
    def pager(self) -> str | None:
        """The pager command for long tables: PAGER (empty or `cat` for none), else less -R;
        None when stdout is not a terminal. A command's --no-pager says no for itself."""
        if not self.stdout_isatty:
            return None
        command = self.environ.get("PAGER", DEFAULT_PAGER).strip()
        return None if command in ("", "cat") else command

    @property
    def pager_environ(self) -> dict[str, str]:
        """The variables the pager runs with: the process's, with git's LESS and LV defaults."""
        return {**_PAGER_DEFAULTS, **self.environ}


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream is no terminal
        return False

