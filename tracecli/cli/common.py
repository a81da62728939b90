"""What every command shares: option types, the Environment, error handling, and opening the
store for reads."""

from __future__ import annotations

import functools
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tracecli.environment import Environment
from tracecli.errors import ExitCode, TraceCliError, first_line
from tracecli.render import console
from tracecli.render.output import OutputFormat

if TYPE_CHECKING:
    import duckdb

    from tracecli.read.filters import Filters

F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="TRACECLI_DB", show_envvar=True, metavar="PATH",
                 help="Store file (default: tracecli.duckdb in the user data dir). ':memory:' for none."),
]
FromOption = Annotated[
    list[str] | None,
    typer.Option("--from", metavar="PATH|-", help="Read these files (or - for stdin) into a throwaway in-memory "
                 "store instead of using --db. Repeatable.", rich_help_panel="Input"),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format: table, json, jsonl, csv or markdown.",
                               case_sensitive=False)
]
SinceOption = Annotated[
    str | None, typer.Option("--since", metavar="WHEN", help="Only from this time on: ISO date/time or age like 30m, 24h, 7d.",
                             rich_help_panel="Filters"),
]
UntilOption = Annotated[
    str | None, typer.Option("--until", metavar="WHEN", help="Only before this time: ISO date/time or age like 1h.",
                             rich_help_panel="Filters"),
]
ModelOption = Annotated[
    list[str] | None, typer.Option("--model", metavar="MODEL", help="Only calls to this model "
                                   "(repeatable).", rich_help_panel="Filters"),
]
TagOption = Annotated[
    list[str] | None, typer.Option("--tag", metavar="KEY=VALUE", help="Metadata tag KEY=VALUE (repeatable, all must match).",
                                   rich_help_panel="Filters"),
]


def environment(ctx: typer.Context) -> Environment:
    """The Environment the CLI callback read, or the one a caller handed in as the context
    object (`CliRunner().invoke(app, args, obj=env)`)."""
    return ctx.find_object(Environment) or Environment.current()


def fail(env: Environment, message: str, code: int = ExitCode.ERROR) -> None:
    """One plain line on stderr, then exit with `code`. Messages can quote input (file names,
    engine errors), so they are masked for secrets and made safe for the terminal."""
    from tracecli.ingest.redact import redact_text
    from tracecli.render.text import one_line

    console.err(env).print(f"tracecli: error: {one_line(redact_text(message))}", markup=False,
                           highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def busy_wait(env: Environment) -> float:
    """How long to wait for a store another process holds: TRACECLI_BUSY_WAIT seconds."""
    from tracecli.store.connection import BUSY_WAIT_SECONDS

    raw = env.busy_wait
    if raw is None or not raw.strip():
        return BUSY_WAIT_SECONDS
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise TraceCliError(f"TRACECLI_BUSY_WAIT={raw!r}: expected a number of seconds",
                            ExitCode.USAGE) from None


def guarded(func: F) -> F:
    """Expected failures become one stderr line and an exit code; nothing shows a traceback
    unless --debug (or TRACECLI_DEBUG=1) asked for it. The command takes its context as `ctx`
    (Typer passes it by name), whose Environment says where errors go."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        env = environment(kwargs["ctx"])
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except TraceCliError as exc:
            if env.debug:
                traceback.print_exc(file=env.stderr)
            fail(env, exc.message, exc.code)
        except KeyboardInterrupt:
            console.err(env).print("tracecli: interrupted", markup=False)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            _silence_broken_pipe(env)
            raise typer.Exit(0) from None
        except Exception as exc:  # a bug: still one line, and a way to see more
            if env.debug:
                traceback.print_exc(file=env.stderr)
            fail(env, f"internal error: {type(exc).__name__}: {first_line(exc)} "
                 "(run with --debug for a traceback)")
        return None

    return wrapper  # type: ignore[return-value]


def _silence_broken_pipe(env: Environment) -> None:
    """The reader went away (`| head`): stop quietly, without Python's flush-time complaint."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, env.stdout.fileno())
    except (OSError, ValueError):
        pass


def build_filters(since: str | None, until: str | None, models: list[str] | None,
                  tags: list[str] | None, **extra: Any) -> Filters:
    """The shared filter options, parsed; `extra` passes command-specific fields through."""
    from tracecli.read.filters import Filters, parse_tags, parse_when

    return Filters(
        since=parse_when(since, "--since") if since else None,
        until=parse_when(until, "--until") if until else None,
        models=models or [], tags=parse_tags(tags), **extra,
    )


@contextmanager
def read_store(db: str | None, sources: list[str] | None,
               env: Environment | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store to answer from: the --db file (read-only), or --from inputs ingested into memory.
    `env` (the command's; a script's process by default) says how long to wait for a busy one."""
    from tracecli.store.connection import MEMORY, open_store

    if sources:
        from tracecli.ingest.pipeline import ingest

        con = open_store(MEMORY)
        try:
            ingest(con, sources)
        except BaseException:
            con.close()
            raise
    else:
        con = open_store(db, read_only=True, wait=busy_wait(env or Environment.current()))
    try:
        yield con
    finally:
        con.close()
