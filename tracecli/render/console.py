"""Rich consoles built from the Environment, which alone decides colour, width and TTY behaviour:
Rich is told all three, and reads any variable of its own from the Environment's copy. And the
screen a table is drawn for, and the pager a long one goes through."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from typing import IO, Any, TextIO

from rich.console import Console

from tracecli.environment import Environment


def out(env: Environment) -> Console:
    """Data goes to stdout; plain text when it is not a terminal or NO_COLOR is set."""
    return _console(env, env.stdout, env.stdout_isatty, env.stdout_colour, soft_wrap=False,
                    width=env.stdout_width)


def err(env: Environment) -> Console:
    """Messages, progress and errors go to stderr."""
    return _console(env, env.stderr, env.stderr_isatty, env.stderr_colour, soft_wrap=True,
                    stderr=True)


def _console(env: Environment, file: TextIO, isatty: bool, colour: bool, **kwargs: Any) -> Console:
    return Console(file=file, force_terminal=isatty, no_color=not colour,
                   color_system="auto" if colour else None, highlight=False, emoji=False,
                   _environ=env.environ, **kwargs)


@dataclass(frozen=True)
class Screen:
    """What a table is drawn for: a terminal's size and whether it takes colour, or a pipe,
    which has no size (piped output is never cut to one)."""

    width: int | None = None
    height: int | None = None
    colour: bool = False


def screen(env: Environment) -> Screen:
    """The terminal stdout is, as Rich measures it (COLUMNS and LINES first), or a pipe."""
    if not env.stdout_isatty:
        return Screen()
    console = out(env)
    return Screen(console.width, console.height, console.color_system is not None)


def show(env: Environment, text: str, *, pager: bool) -> None:
    """Text on stdout; through the pager when asked, on a terminal, and longer than its screen."""
    lines = text.count("\n")
    command = pager_argv(env) if pager else None
    height = screen(env).height if command else None
    if command and height and lines > height and _page(env, command, text):
        return
    env.stdout.write(text)


def pager_argv(env: Environment) -> list[str] | None:
    """The pager's command line, when stdout is a terminal that a pager can write to and the
    pager env.pager names is installed; None otherwise."""
    if env.pager is None or _terminal_fd(env.stdout) is None:
        return None
    try:
        argv = shlex.split(env.pager)
    except ValueError:  # unbalanced quotes: not a command
        return None
    return argv if argv and shutil.which(argv[0], path=env.environ.get("PATH")) else None


def _terminal_fd(stream: TextIO) -> int | None:
    """The file descriptor of a stream that is a real terminal (a test's stand-in is not)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return None
    return fd if os.isatty(fd) else None


def _page(env: Environment, argv: list[str], text: str) -> bool:
    """Text through the pager, as git runs one: with LESS=FRX (quit if one screen, keep colours,
    leave the screen as it is) and LV=-c unless set, until the reader quits. Ctrl-C is the
    pager's to handle; tracecli waits for it to end. False if it could not start."""
    env.stdout.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=_terminal_fd(env.stdout),
                                env=env.pager_environ, encoding="utf-8", errors="replace")
    except OSError:
        return False
    stdin = proc.stdin
    try:
        if stdin is not None:
            stdin.write(text)
    except (BrokenPipeError, KeyboardInterrupt):  # the reader quit before the end
        pass
    finally:
        _close(stdin)
    while True:
        try:
            proc.wait()
            return True
        except KeyboardInterrupt:
            continue


def _close(stream: IO[str] | None) -> None:
    try:
        if stream is not None:
            stream.close()
    except BrokenPipeError:  # text left unread by a reader that quit: nothing to do
        pass
