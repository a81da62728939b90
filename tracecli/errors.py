"""Exit codes and the one exception type the CLI turns into a single stderr line."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    BAD_INPUT = 3
    NOT_FOUND = 4
    STORE_BUSY = 5
    STORE_VERSION = 6
    REMOTE = 7


class TraceCliError(Exception):
    """An expected failure: the message is shown as one line, the code becomes the exit status."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class BadInput(TraceCliError):
    """Input that cannot be read; the message names file and line."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.BAD_INPUT)


class NotFound(TraceCliError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.NOT_FOUND)


INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C (128 + SIGINT)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what it left behind when that is not "nothing" (`note`)."""

    def __init__(self, note: str = "") -> None:
        super().__init__(note)
        self.note = note


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (engine errors run to many), or its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
