"""`tracecli sql`: a read-only SELECT over the store's documented views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, NoPagerOption, guarded
from tracecli.render.output import OutputFormat

if TYPE_CHECKING:
    from tracecli.read.sql import Result
    from tracecli.render.output import Column, Kind


@guarded
def sql(
    ctx: typer.Context,
    query: Annotated[str | None, typer.Argument(metavar="QUERY", help="One SELECT (DESCRIBE, "
                                                "SHOW and SUMMARIZE too) over the views.")] = None,
    schema: Annotated[bool, typer.Option("--schema", help="List the views and their columns "
                                         "instead.")] = False,
    db: DbOption = None,
    from_: FromOption = None,
    no_pager: NoPagerOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run one read-only SQL query over the views spans, traces, tool_calls, feedback and
    cost_daily. Writes, settings and file readers are refused (exit 2)."""
    from tracecli.cli.common import environment, note_empty, read_store
    from tracecli.errors import ExitCode, TraceCliError
    from tracecli.read.sql import lock_down, run
    from tracecli.read.views import SCHEMA
    from tracecli.render.output import emit
    from tracecli.store.connection import MEMORY, open_store

    if schema == (query is not None):
        raise TraceCliError("give a QUERY or --schema (one of them)", ExitCode.USAGE)
    env = environment(ctx)
    # the views' columns are the same over any store: an empty one in memory tells them
    with open_store(MEMORY) if schema else read_store(db, from_, env) as con:
        lock_down(con)
        result = run(con, SCHEMA if schema else query or "")
    emit(result.rows, _columns(result), fmt, env=env, pager=not no_pager)
    if not result.rows:
        note_empty(env, "rows")


def _columns(result: Result) -> list[Column]:
    """A column per result column, shown by its DuckDB type: integers and times as every
    listing shows them, money (cost_usd) rounded as every output rounds it, other floating
    point numbers to as many digits (no float noise), the rest as text."""
    from tracecli.read.sql import FLOAT_TYPES, INTEGER_TYPES
    from tracecli.render.output import Column
    from tracecli.store.schema import MONEY_COLUMNS

    def kind(name: str, sql_type: str) -> Kind:
        if name in MONEY_COLUMNS:
            return "cost"
        if sql_type in INTEGER_TYPES:
            return "int"
        if sql_type in FLOAT_TYPES:
            return "number"
        return "time" if sql_type.startswith("TIMESTAMP") else "text"

    return [Column(name, name, kind(name, sql_type)) for name, sql_type in result.columns]
