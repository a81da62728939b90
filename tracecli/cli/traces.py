"""`tracecli traces`: list traces, newest first."""

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
def traces(
    ctx: typer.Context,
    filters: FilterArgs,
    db: DbOption = None,
    from_: FromOption = None,
    status: Annotated[str | None, typer.Option("--status", metavar="ok|error", help="ok or error.",
                                               rich_help_panel="Filters")] = None,
    min_cost: Annotated[float | None, typer.Option("--min-cost", metavar="USD", help="Traces costing at least this many USD.",
                                                   rich_help_panel="Filters")] = None,
    search: Annotated[str | None, typer.Option("--search", metavar="TEXT", help="Text in any request, response or error "
                                               "(case-insensitive).", rich_help_panel="Filters")] = None,
    min_score: Annotated[float | None, typer.Option("--min-score", metavar="SCORE", help="Traces whose user "
                                                    "feedback score (-10 to 10) is at least this.",
                                                    rich_help_panel="Filters")] = None,
    max_score: Annotated[float | None, typer.Option("--max-score", metavar="SCORE", help="Traces whose user "
                                                    "feedback score is at most this.",
                                                    rich_help_panel="Filters")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (0 = all).")] = 20,
    no_pager: NoPagerOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List traces, newest first, with their calls, tokens, cost and tags."""
    from tracecli.cli.common import (
        check_limit,
        check_number,
        environment,
        note_cut,
        read_store,
    )
    from tracecli.errors import ExitCode, TraceCliError
    from tracecli.read.listing import list_traces
    from tracecli.render import columns
    from tracecli.render.output import emit

    if status not in (None, "ok", "error"):
        raise TraceCliError("--status must be ok or error", ExitCode.USAGE)
    check_limit(limit)
    if min_cost is not None:
        check_number(min_cost, "--min-cost")
    for score, option in ((min_score, "--min-score"), (max_score, "--max-score")):
        if score is not None and not -10 <= score <= 10:  # NaN too
            raise TraceCliError(f"{option} {score:g}: a feedback score is from -10 to 10", ExitCode.USAGE)
    wanted = filters.parse(status=status, min_cost=min_cost, search=search, min_score=min_score,
                           max_score=max_score)
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        rows, total = list_traces(con, wanted, limit)
    emit(rows, columns.TRACES, fmt, env=env, pager=not no_pager)
    note_cut(env, len(rows), total, "traces")
