"""`tracecli spans`: the canonical span rows, as `tracecli ingest` reads them back (`tracecli export`
writes the whole store, feedback included)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FilterArgs, FormatOption, FromOption, filtered, guarded
from tracecli.render.output import OutputFormat


@guarded
@filtered
def spans(
    ctx: typer.Context,
    filters: FilterArgs,
    trace: Annotated[str | None, typer.Option("--trace", metavar="TRACE_ID", help="Only this trace (a unique prefix is enough).")] = None,
    db: DbOption = None,
    from_: FromOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (0 = all).")] = 0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List spans. `--format jsonl` writes them as `tracecli ingest` reads them back.

    `tracecli export` writes the whole store: every span, and the feedback too."""
    from tracecli.cli.common import check_limit, environment, read_store
    from tracecli.read.listing import list_spans, resolve_trace_id
    from tracecli.render import columns
    from tracecli.render.output import emit

    check_limit(limit)
    wanted = filters.parse()
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        trace_id = resolve_trace_id(con, trace) if trace else None
        rows = list_spans(con, wanted, trace_id, limit)
    emit(rows, columns.SPANS, fmt, env=env)
