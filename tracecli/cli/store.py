"""`tracecli store`: where the store is and what it holds."""

from __future__ import annotations

import typer

from tracecli.cli.common import DbOption, FormatOption, guarded
from tracecli.render.output import OutputFormat


@guarded
def store(
    ctx: typer.Context,
    db: DbOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Where the store is and what it holds: path, size, schema version, spans, traces,
    ingests, the first and last span's time, and the formats its spans came from."""
    from tracecli.cli.common import environment, read_store
    from tracecli.read.status import status
    from tracecli.render import columns
    from tracecli.render.output import emit

    env = environment(ctx)
    with read_store(db, None, env) as con:
        figures = status(con)
    emit([figures], columns.STORE, fmt, document=figures, env=env)
