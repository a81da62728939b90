"""`tracecli feedback`: user feedback on traces, given here or read from Portkey's feedback logs."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, NoPagerOption, guarded
from tracecli.render.output import OutputFormat

app = typer.Typer(name="feedback", no_args_is_help=True, rich_markup_mode=None,
                  help="User feedback on traces: add a vote, list the records.")


@app.command("add")
@guarded
def add(
    ctx: typer.Context,
    trace_id: Annotated[str, typer.Argument(metavar="TRACE_ID", help="Trace id, or a unique prefix of one.")],
    value: Annotated[str, typer.Option("--value", metavar="N", help="An integer from -10 to 10 "
                                       "(1 for thumbs up, -1 for thumbs down, as in Portkey's feedback API).")],
    weight: Annotated[str, typer.Option("--weight", metavar="W", help="How much this vote counts, "
                                        "from 0 to 1.")] = "1.0",
    meta: Annotated[list[str] | None, typer.Option("--meta", metavar="KEY=VALUE", help="Metadata to "
                                                   "keep with it (repeatable): a comment, _user, …")] = None,
    force: Annotated[bool, typer.Option("--force", help="Add it even though no stored trace has "
                                        "this id (a trace ingested later), exactly as given.")] = False,
    db: DbOption = None,
) -> None:
    """Add user feedback to a trace, under Portkey's rules: value an integer from -10 to 10,
    weight from 0 to 1. Each add is one more vote in the trace's score."""
    from tracecli.cli.common import busy_wait, environment
    from tracecli.errors import ExitCode, NotFound, TraceCliError
    from tracecli.ingest.user_feedback import add as store_feedback
    from tracecli.ingest.user_feedback import parse_value, parse_weight
    from tracecli.read.feedback import score
    from tracecli.read.filters import parse_tags
    from tracecli.read.listing import resolve_trace_id
    from tracecli.render import console
    from tracecli.render.output import format_score
    from tracecli.render.text import one_line
    from tracecli.store.connection import open_store

    number, share = parse_value(value), parse_weight(weight)
    metadata = dict(parse_tags(meta, "--meta"))
    env = environment(ctx)
    con = open_store(db, wait=busy_wait(env))
    try:
        try:
            trace = trace_id if force else resolve_trace_id(con, trace_id)
        except NotFound:
            raise TraceCliError(f"no stored trace has the id {trace_id!r}; ingest it first, or "
                                "--force to add the feedback all the same", ExitCode.NOT_FOUND) from None
        store_feedback(con, trace, number, share, metadata)
        now, votes = score(con, trace)
    finally:
        con.close()
    console.err(env).print(f"added feedback {number:+d} (weight {share:g}) to {one_line(trace)}: "
                           f"its score is now {format_score(now, votes)}", markup=False, highlight=False)


@app.command("list")
@guarded
def list_(
    ctx: typer.Context,
    trace: Annotated[str | None, typer.Option("--trace", metavar="TRACE_ID", help="Only this trace's "
                                              "(a unique prefix is enough).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (0 = all).")] = 20,
    db: DbOption = None,
    no_pager: NoPagerOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List user feedback records, oldest first, as `tracecli export` writes them."""
    from tracecli.cli.common import check_limit, environment, note_cut, read_store
    from tracecli.errors import NotFound
    from tracecli.read.feedback import records
    from tracecli.read.listing import resolve_trace_id
    from tracecli.render import columns
    from tracecli.render.output import emit

    check_limit(limit)
    env = environment(ctx)
    with read_store(db, None, env) as con:
        try:
            trace_id = resolve_trace_id(con, trace) if trace else None
        except NotFound:  # feedback added --force, on a trace not stored (yet): its exact id
            trace_id = trace
        rows, total = records(con, trace_id, limit)
    emit(rows, columns.FEEDBACK, fmt, env=env, pager=not no_pager)
    note_cut(env, len(rows), total, "feedback records")
