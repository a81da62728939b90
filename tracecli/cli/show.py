"""`tracecli show`: one trace as a tree."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, guarded
from tracecli.render.output import OutputFormat


@guarded
def show(
    ctx: typer.Context,
    trace_id: Annotated[str, typer.Argument(metavar="TRACE_ID", help="Trace id, or a unique prefix of one.")],
    db: DbOption = None,
    from_: FromOption = None,
    full: Annotated[bool, typer.Option("--full", help="Add every message sent and received, and what the instrumentation recorded (resource, scope, attributes).")] = False,
    all_spans: Annotated[bool, typer.Option("--all-spans", help="Keep framework spans that hold no "
                                            "LLM call, tool call or error.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show one agent run: each LLM call, the tools it called with their results, the answer."""
    from tracecli.cli.common import environment, read_store
    from tracecli.read.listing import spans_of_trace
    from tracecli.read.tree import build, to_dict
    from tracecli.render import columns, console
    from tracecli.render.output import emit, write_json

    env = environment(ctx)
    with read_store(db, from_, env) as con:
        tree = build(con, trace_id, all_spans=all_spans)
        flat = (spans_of_trace(con, tree.summary["trace_id"])
                if fmt in (OutputFormat.csv, OutputFormat.markdown) else [])
    if fmt is OutputFormat.table:
        from tracecli.render.tree import render

        console.out(env).print(render(tree, full=full))
    elif fmt in (OutputFormat.json, OutputFormat.jsonl):
        write_json(to_dict(tree), env, indent=2 if fmt is OutputFormat.json else None)
    else:
        emit(flat, columns.SPANS, fmt, env=env)
