"""The `tracecli` command: a Typer app joining the command modules. Imports stay light so that
`tracecli --help` starts fast; each command loads the core only when it runs."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Annotated

import typer

from tracecli import __version__
from tracecli.cli import (
    browse,
    check,
    cost,
    diff,
    export,
    feedback,
    formats,
    ingest,
    replay,
    show,
    spans,
    sql,
    stats,
    store,
    traces,
)
from tracecli.environment import Environment
from tracecli.errors import INTERRUPTED

app = typer.Typer(
    name="tracecli",
    help="Inspect LLM request logs and agent traces: ingest gateway and tracing-SDK logs into a "
    "local DuckDB store, then list traces, show one as a tree, total costs, and replay runs.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (tracecli.cli.completion)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tracecli {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                 help="Print the version and exit.")] = None,
) -> None:
    # The one read of the process's streams and variables, for every command (cli.common's
    # `environment(ctx)`); a caller may hand in its own as the context object.
    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment.current()
    ctx.obj = replace(env, debug=True) if debug else env


app.command("ingest")(ingest.ingest)
app.command("traces")(traces.traces)
app.command("show")(show.show)
app.command("cost")(cost.cost)
app.command("stats")(stats.stats)
app.command("check")(check.check)
app.command("diff")(diff.diff)
app.command("replay")(replay.replay)
app.command("spans")(spans.spans)
app.command("export")(export.export)
app.command("formats")(formats.formats)
app.command("sql")(sql.sql)
app.command("store")(store.store)
app.command("browse")(browse.browse)
app.add_typer(feedback.app)


def run() -> None:
    """The console script. Ctrl-C outside a command's own code (while imports load, as output
    ends) is the same one line and exit code as inside it."""
    try:
        app(prog_name="tracecli")
    except KeyboardInterrupt:
        sys.stderr.write("tracecli: interrupted\n")
        raise SystemExit(INTERRUPTED) from None
