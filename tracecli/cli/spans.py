"""`tracecli spans`: the canonical span rows, as `tracecli ingest` reads them back (`tracecli export`
writes the whole store, feedback included)."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import (
    DbOption,
    FilterArgs,
    FormatOption,
    FromOption,
    NoPagerOption,
    filtered,
    guarded,
)
from tracecli.render.output import OutputFormat


@guarded
@filtered
def spans(
    ctx: typer.Context,
    filters: FilterArgs,
    trace: Annotated[str | None, typer.Option("--trace", metavar="TRACE_ID", help="Only this trace (a unique prefix is enough).")] = None,
    db: DbOption = None,
    from_: FromOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (0 = all, "
                                       "streamed as jsonl or csv).")] = 20,
    no_pager: NoPagerOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List spans, in time order. `--format jsonl` writes them as `tracecli ingest` reads them back.

    `tracecli export` writes the whole store: every span, and the feedback too."""
    from tracecli.cli.common import check_limit, environment, note_cut, read_store
    from tracecli.read import listing
    from tracecli.render import columns
    from tracecli.render.output import emit, write_lines

    check_limit(limit)
    wanted = filters.parse()
    env = environment(ctx)
    shown = tuple(c.key for c in columns.SPANS)
    streamed = fmt in (OutputFormat.jsonl, OutputFormat.csv)
    with read_store(db, from_, env) as con:
        trace_id = listing.resolve_trace_id(con, trace) if trace else None
        if streamed:  # DuckDB writes the lines, a window of spans at a time, out as they come
            form = listing.JSONL if fmt is OutputFormat.jsonl else listing.csv_format(shown)
            count = write_lines(listing.span_lines(con, wanted, trace_id, limit, form), fmt, env)
            cut = limit and count == limit
            total = listing.count_spans(con, wanted, trace_id) if cut else count
        else:  # the rows, with only the columns a table shows
            rows, total = listing.list_spans(con, wanted, trace_id, limit,
                                             () if fmt is OutputFormat.json else shown)
            count = len(rows)
    if not streamed:
        emit(rows, columns.SPANS, fmt, env=env, pager=not no_pager)
    note_cut(env, count, total, "spans")
