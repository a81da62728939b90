"""Printing replay steps as they happen, on the recorded clock scaled by --speed."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from tracecli.read.replay import Step
from tracecli.render.text import one_line, safe

_STYLE = {"send": "bold cyan", "receive": "bold magenta", "tool": "bold yellow",
          "error": "bold red", "answer": "bold green"}


def step_text(step: Step) -> Text:
    t = Text(f"+{step.at_ms / 1000:7.2f}s ", style="dim")
    t.append(one_line(step.title), style=_STYLE.get(step.kind, "bold"))
    for label, body in step.lines:
        t.append("\n    ")
        t.append(f"{one_line(label)}: ", style="bold")
        t.append(safe(body).replace("\n", "\n      "))
    return t


def play(steps: list[Step], console: Console, *, speed: float, max_wait: float,
         wait_for_enter: Callable[[], bool] | None = None,
         sleep: Callable[[float], None] = time.sleep) -> None:
    """Print each step; between steps wait the recorded gap / speed (capped), or for Enter
    (`wait_for_enter` returns False to stop, on `q`)."""
    previous = 0.0
    for index, step in enumerate(steps):
        if index and wait_for_enter is not None:
            if not wait_for_enter():
                return
        elif index and speed > 0:
            gap = max(step.at_ms - previous, 0) / 1000 / speed
            if gap > 0:
                sleep(min(gap, max_wait))
        console.print(step_text(step))
        console.file.flush()
        previous = step.at_ms
