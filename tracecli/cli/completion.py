"""Shell completion (Typer's: `tracecli --install-completion`) of the values a shell cannot know:
trace ids and tag keys from the store, and `--by` groups. A callback runs inside the shell's
completion request, so it is quick (a LIMIT, the store opened read-only, no wait for a busy
one, never created) and quiet: whatever fails, it completes nothing rather than print into the
user's command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    import duckdb

T = TypeVar("T")
LIMIT = 50  # completions offered at most: a shell lists them all
TAG = "tag:"


def trace_ids(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """TRACE_ID: the newest trace ids starting with what was typed, each with its start and
    status (shells that show help beside a completion show those)."""
    from tracecli.read.completion import trace_ids as matching
    from tracecli.render.output import cell

    def found(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
        return [(trace_id, f"{cell(start, 'time')} {status or ''}".strip())
                for trace_id, start, status in matching(con, incomplete, LIMIT)]

    return _from_store(ctx, found)


def groups(ctx: typer.Context, incomplete: str) -> list[str]:
    """`--by`: the groups, and `tag:KEY` for each tag key in the store."""
    from tracecli.read.completion import tag_keys
    from tracecli.read.cost import GROUPS

    static = [g for g in (*GROUPS, "tag") if g.startswith(incomplete)]
    if not (TAG.startswith(incomplete) or incomplete.startswith(TAG)):
        return static
    prefix = incomplete[len(TAG):]
    return static + _from_store(ctx, lambda con: [TAG + k for k in tag_keys(con, prefix, LIMIT)])


def _from_store(ctx: typer.Context, query: Callable[[duckdb.DuckDBPyConnection], list[T]]) -> list[T]:
    """`query`'s answer from the store the command line names so far (--db, TRACECLI_DB, the
    default); nothing for --from inputs (reading them is not a completion's job), a store that
    does not exist, or any failure."""
    try:
        from tracecli.store.connection import MEMORY, db_path, open_store

        path = db_path(ctx.params.get("db"))
        if ctx.params.get("from_") or path == MEMORY or not Path(path).is_file():
            return []
        con = open_store(path, read_only=True, wait=0)
        try:
            return query(con)
        finally:
            con.close()
    except Exception:  # a completion never fails loudly
        return []


# show's and replay's argument, completed from the store
TraceIdArgument = Annotated[str, typer.Argument(metavar="TRACE_ID", autocompletion=trace_ids,
                                                help="Trace id, or a unique prefix of one.")]
