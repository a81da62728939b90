"""`tracecli browse`: the store in an interactive terminal app (tracecli.render.browse)."""

from __future__ import annotations

import typer

from tracecli.cli.common import DbOption, FilterArgs, FromOption, filtered, guarded


@guarded
@filtered
def browse(
    ctx: typer.Context,
    filters: FilterArgs,
    db: DbOption = None,
    from_: FromOption = None,
) -> None:
    """Browse traces interactively: search, open a trace's tree, a span's detail, its waterfall."""
    from tracecli.cli.common import environment, read_store
    from tracecli.errors import ExitCode, TraceCliError

    env = environment(ctx)
    # a full-screen app on a pipe draws escape codes into a file and waits for keys never sent
    if not (env.stdin_isatty and env.stdout_isatty):
        raise TraceCliError("browse needs a terminal (stdin and stdout); for a pipe use "
                            "`tracecli traces` or `tracecli show ID`", ExitCode.USAGE)
    from tracecli.read.browse import Query
    from tracecli.render.browse import BrowseApp

    query = Query(filters.parse())
    with read_store(db, from_, env) as con:
        BrowseApp(con, query).run()
