"""`tracecli replay`: play a recorded run back step by step."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, guarded
from tracecli.render.output import OutputFormat


@guarded
def replay(
    trace_id: Annotated[str, typer.Argument(help="Trace id, or a unique prefix of one.")],
    db: DbOption = None,
    from_: FromOption = None,
    speed: Annotated[float, typer.Option("--speed", help="Playback speed: 1 = as recorded, "
                                         "10 = ten times faster, 0 = no waiting.", min=0)] = 1.0,
    step: Annotated[bool, typer.Option("--step", help="Wait for Enter between steps.")] = False,
    max_wait: Annotated[float, typer.Option("--max-wait", help="Longest pause between two steps, "
                                            "in seconds.", min=0)] = 5.0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Play a recorded run back: what was sent, what came back, each tool call and its result."""
    from tracecli.cli.common import read_store
    from tracecli.render import console
    from tracecli.render.output import dumps
    from tracecli.replay import steps as replay_steps
    from tracecli.tree import build

    with read_store(db, from_) as con:
        tree = build(con, trace_id)
    plan = replay_steps(tree)
    if fmt is not OutputFormat.table:
        rows = [s.to_dict() for s in plan]
        if fmt is OutputFormat.json:
            console.out().file.write(dumps(rows, indent=2) + "\n")
        else:
            from tracecli.render.output import Column, emit

            emit(rows, [Column("at_ms", "at (ms)", "float"), Column("kind", "kind"),
                        Column("call_number", "call", "int"), Column("title", "step"),
                        Column("lines", "detail")], fmt)
        return
    from tracecli.render.replay import play

    def wait_for_enter() -> None:
        console.err().print("[Enter] next step", markup=False, end="")
        sys.stdin.readline()

    play(plan, console.out(), speed=speed, max_wait=max_wait,
         wait_for_enter=wait_for_enter if step else None)
