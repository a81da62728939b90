"""What the process offers a command: its streams, whether each is a terminal, and the variables
tracecli reads. Read once, when the CLI starts, and passed down, so that output decisions
(colour, width, progress bars) are made in one place and a test can hand in its own."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TextIO

# Piped output is data for another program: it is cut to no terminal's width.
_PIPE_WIDTH = 1000


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
    columns: int | None  # COLUMNS, when it is a number
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
            columns=_number(environ.get("COLUMNS")),
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
        """None on a terminal, which knows its own width; piped, COLUMNS (at least 20) if set."""
        if self.stdout_isatty:
            return None
        return _PIPE_WIDTH if self.columns is None else max(self.columns, 20)


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream is no terminal
        return False


def _number(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
