"""What every command shares: option types, the Environment, error handling, and opening the
store for reads."""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, get_type_hints

import typer

from tracecli.cli.completion import groups
from tracecli.environment import Environment
from tracecli.errors import INTERRUPTED, ExitCode, TraceCliError, first_line
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
ByOption = Annotated[
    str, typer.Option("--by", metavar="GROUP", autocompletion=groups, help="model, provider, trace, "
                      "day, kind, tag (every key=value) or tag:KEY (one key's values)."),
]
NoPagerOption = Annotated[
    bool, typer.Option("--no-pager", help="Never page a table through $PAGER (less), even on a "
                       "terminal: a table longer than the screen goes through it otherwise."),
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
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if math.isnan(seconds):
        raise TraceCliError(f"TRACECLI_BUSY_WAIT={raw!r}: expected a number of seconds",
                            ExitCode.USAGE)
    return max(0.0, seconds)


# Far more rows than any store holds, and still a BIGINT once listings add one to it.
MAX_LIMIT = 10**18


def check_limit(limit: int, option: str = "--limit") -> int:
    """A row limit: 0 (all) up to MAX_LIMIT."""
    if limit < 0:
        raise TraceCliError(f"{option} must be 0 (all) or more", ExitCode.USAGE)
    if limit > MAX_LIMIT:
        raise TraceCliError(f"{option} {limit}: too large (at most {MAX_LIMIT:,}; 0 = all)",
                            ExitCode.USAGE)
    return limit


def note_cut(env: Environment, shown: int, total: int, what: str, option: str = "--limit") -> None:
    """Say on stderr that a listing shows `shown` of `total` rows, and how to see them all, or
    that nothing matched (the listing is still valid, and exits 0: it answered the query)."""
    if not total:
        note_empty(env, what)
    elif shown < total:
        console.err(env).print(f"showing {shown:,} of {total:,} {what}; use {option} 0 for all",
                               markup=False, highlight=False)


def note_empty(env: Environment, what: str) -> None:
    """One line on stderr: a listing found none of `what` (its output stays a valid document)."""
    console.err(env).print(f"no {what} match", markup=False, highlight=False)


def check_number(value: float, option: str, *, least: float = 0.0) -> float:
    """A finite number, at least `least`: nan, inf and smaller values are usage errors."""
    if not math.isfinite(value) or value < least:
        raise TraceCliError(f"{option} {value:g}: expected a finite number, at least {least:g}",
                            ExitCode.USAGE)
    return value


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
        except KeyboardInterrupt as exc:
            _interrupted(env, getattr(exc, "note", ""))
        except BrokenPipeError:
            silence_broken_pipe(env)
            raise typer.Exit(0) from None
        except Exception as exc:
            if env.debug:
                traceback.print_exc(file=env.stderr)
            if _engine_interrupted(exc):  # Ctrl-C, as DuckDB reports it mid-statement
                _interrupted(env, "")
            problem = _store_problem(exc, kwargs)
            if problem is not None:
                fail(env, problem.message, problem.code)
            # a bug: still one line, and a way to see more
            fail(env, f"internal error: {type(exc).__name__}: {first_line(exc)} "
                 "(run with --debug for a traceback)")
        return None

    return wrapper  # type: ignore[return-value]


def _interrupted(env: Environment, note: str) -> NoReturn:
    console.err(env).print(f"tracecli: interrupted ({note})" if note else "tracecli: interrupted",
                           markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(INTERRUPTED)


def _engine_interrupted(exc: Exception) -> bool:
    if "duckdb" not in sys.modules:  # no engine loaded: not one of its errors
        return False
    from tracecli.store.connection import is_interrupt

    return is_interrupt(exc)


def _store_problem(exc: Exception, kwargs: dict[str, Any]) -> TraceCliError | None:
    """An engine error that is the store file's (full disk, damage), phrased as such. The store
    is the command's --db (none with --from: that one lives in memory)."""
    if "duckdb" not in sys.modules or "db" not in kwargs:
        return None
    from tracecli.store.connection import MEMORY, db_path, store_problem

    path = MEMORY if kwargs.get("from_") else db_path(kwargs["db"])
    return store_problem(exc, path)


def silence_broken_pipe(env: Environment) -> None:
    """The reader went away (`| head`): stop quietly, without Python's flush-time complaint."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, env.stdout.fileno())
    except (OSError, ValueError):
        pass


@dataclass(frozen=True)
class FilterArgs:
    """The shared filter options as typed; `parse` checks them, with a command's own fields."""

    since: str | None = None
    until: str | None = None
    models: list[str] | None = None
    tags: list[str] | None = None

    def parse(self, **extra: Any) -> Filters:
        from tracecli.read.filters import Filters, parse_tags, parse_when

        return Filters(
            since=parse_when(self.since, "--since") if self.since else None,
            until=parse_when(self.until, "--until") if self.until else None,
            models=self.models or [], tags=parse_tags(self.tags), **extra,
        )


_FILTER_OPTIONS = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
                   for name, kind in (("since", SinceOption), ("until", UntilOption),
                                      ("model", ModelOption), ("tag", TagOption))]


def filtered(func: F) -> F:
    """Declare --since/--until/--model/--tag once for every command that filters (Typer reads
    options from a signature): the command takes one `filters: FilterArgs` argument instead."""

    @functools.wraps(func)
    def wrapper(*args: Any, since: str | None = None, until: str | None = None,
                model: list[str] | None = None, tag: list[str] | None = None, **kwargs: Any) -> Any:
        return func(*args, filters=FilterArgs(since, until, model, tag), **kwargs)

    hints = get_type_hints(func, include_extras=True)  # a signature given is not evaluated again
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
           for p in inspect.signature(func).parameters.values() if p.name != "filters"]
    cut = next((i for i, p in enumerate(own) if p.name == "fmt"), len(own))  # --format stays last
    params = own[:cut] + _FILTER_OPTIONS + own[cut:]
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    return wrapper  # type: ignore[return-value]


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
            if not ingest(con, sources).records:  # a CI step that logged nothing: say so
                from tracecli.render.text import one_line

                console.err(env or Environment.current()).print(
                    f"no input records read from {one_line(' '.join(sources))}", markup=False,
                    highlight=False)
        except BaseException:
            con.close()
            raise
    else:
        con = open_store(db, read_only=True, wait=busy_wait(env or Environment.current()))
    try:
        if not sources:
            _hint_if_empty(con, db, env or Environment.current())
        yield con
    finally:
        con.close()


def _hint_if_empty(con: duckdb.DuckDBPyConnection, db: str | None, env: Environment) -> None:
    """An empty store still answers (a header, no rows); stderr says why nothing is in it."""
    from tracecli.render.text import one_line
    from tracecli.store.connection import db_path, holds_spans

    if not holds_spans(con):
        console.err(env).print(f"store {one_line(db_path(db))} is empty: run `tracecli ingest "
                               "PATH...` to fill it", markup=False, highlight=False)
