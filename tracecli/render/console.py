"""Where output goes and how it looks: one place decides colour, width and TTY behaviour."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def _color_allowed(stream: object) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _pipe_width() -> int:
    """Piped output is data for another program: do not cut it to a terminal's width."""
    try:
        return max(int(os.environ.get("COLUMNS", "")), 20)
    except ValueError:
        return 1000


def out() -> Console:
    """Data goes to stdout; plain text when it is not a terminal or NO_COLOR is set.

    Built per call, so a swapped sys.stdout (tests, pipes) is always honoured."""
    color = _color_allowed(sys.stdout)
    return Console(
        file=sys.stdout,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        width=None if sys.stdout.isatty() else _pipe_width(),
    )


def err() -> Console:
    """Messages, progress and errors go to stderr."""
    color = _color_allowed(sys.stderr)
    return Console(
        file=sys.stderr,
        stderr=True,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )
