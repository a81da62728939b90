"""`tracecli show`: one trace as a tree."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, guarded
from tracecli.cli.completion import TraceIdArgument
from tracecli.render.output import OutputFormat


@guarded
def show(
    ctx: typer.Context,
    trace_id: TraceIdArgument,
    db: DbOption = None,
    from_: FromOption = None,
    full: Annotated[bool, typer.Option("--full", help="Add every message sent and received, and what the instrumentation recorded (resource, scope, attributes); table and markdown.")] = False,
    all_spans: Annotated[bool, typer.Option("--all-spans", help="Keep framework spans that hold no "
                                            "LLM call, tool call or error.")] = False,
    waterfall: Annotated[bool, typer.Option("--waterfall", help="Every span on one time axis: start, "
                                            "duration, tokens, cost and a bar scaled to the trace, "
                                            "the critical path drawn █; --format json gives the offsets.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show one agent run: each LLM call, the tools it called with their results, the answer."""
    from tracecli.cli.common import environment, read_store
    from tracecli.read.listing import spans_of_trace
    from tracecli.read.tree import build
    from tracecli.read.waterfall import build as waterfall_of
    from tracecli.render import columns, console
    from tracecli.render import tree as view
    from tracecli.render import waterfall as waterfall_view
    from tracecli.render.output import emit, write_json

    env = environment(ctx)
    with read_store(db, from_, env) as con:
        tree = build(con, trace_id, all_spans=all_spans)
        flat = spans_of_trace(con, tree.summary["trace_id"]) if fmt is OutputFormat.csv else []
        chart = waterfall_of(con, tree) if waterfall else None
    if chart is not None:
        waterfall_view.write(chart, fmt, env)
    elif fmt is OutputFormat.table:
        console.out(env).print(view.render(tree, full=full))
    elif fmt is OutputFormat.markdown:
        env.stdout.write(view.markdown(tree, full=full))
    elif fmt in (OutputFormat.json, OutputFormat.jsonl):
        write_json(view.document(tree), env, indent=2 if fmt is OutputFormat.json else None)
    else:
        emit(flat, columns.SPANS, fmt, env=env)
