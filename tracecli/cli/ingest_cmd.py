"""`tracecli ingest`: read log files into the store."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tracecli.cli.common import DbOption, guarded
from tracecli.render import console


@guarded
def ingest(
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="Files, directories, globs, or - for stdin "
                                                    "(.jsonl .ndjson .json .parquet, optionally .gz).")],
    db: DbOption = None,
    format_name: Annotated[str | None, typer.Option("--format", metavar="NAME", help="Skip detection: read every "
                                                    "input as this format (see `tracecli formats`).")] = None,
    portkey_cost_unit: Annotated[str, typer.Option("--portkey-cost-unit", metavar="cents|usd", help="Unit of Portkey's "
                                                   "`cost` field: cents (as its export docs say) or usd.")] = "cents",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Add log records to the store. Re-ingesting the same records adds nothing."""
    from tracecli.errors import ExitCode, TraceCliError
    from tracecli.ingest.base import ReadOptions
    from tracecli.ingest.pipeline import ingest as run_ingest
    from tracecli.render.ingest import progress_reporter, summary
    from tracecli.store import open_store

    if portkey_cost_unit not in ("cents", "usd"):
        raise TraceCliError("--portkey-cost-unit must be cents or usd", ExitCode.USAGE)
    con = open_store(db)
    try:
        show_progress = not quiet and sys.stderr.isatty()
        with progress_reporter(console.err(), enabled=show_progress) as progress:
            result = run_ingest(con, paths, format_name=format_name,
                                options=ReadOptions(portkey_cost_unit=portkey_cost_unit),  # type: ignore[arg-type]
                                progress=progress)
    finally:
        con.close()
    if not quiet:
        console.err().print(summary(result), markup=False, highlight=False)
