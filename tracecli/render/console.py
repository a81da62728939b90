"""Rich consoles built from the Environment, which alone decides colour, width and TTY behaviour:
Rich is told all three, and reads any variable of its own from the Environment's copy."""

from __future__ import annotations

from rich.console import Console

from tracecli.environment import Environment


def out(env: Environment) -> Console:
    """Data goes to stdout; plain text when it is not a terminal or NO_COLOR is set."""
    return Console(
        file=env.stdout,
        force_terminal=env.stdout_isatty,
        no_color=not env.stdout_colour,
        color_system="auto" if env.stdout_colour else None,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        width=env.stdout_width,
        _environ=env.environ,
    )


def err(env: Environment) -> Console:
    """Messages, progress and errors go to stderr."""
    return Console(
        file=env.stderr,
        stderr=True,
        force_terminal=env.stderr_isatty,
        no_color=not env.stderr_colour,
        color_system="auto" if env.stderr_colour else None,
        highlight=False,
        soft_wrap=True,
        emoji=False,
        _environ=env.environ,
    )
