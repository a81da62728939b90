"""Rich consoles built from the Environment, which alone decides colour, width and TTY behaviour:
Rich is told all three, and reads any variable of its own from the Environment's copy."""

from __future__ import annotations

from typing import Any, TextIO

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
