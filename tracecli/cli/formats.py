"""`tracecli formats`: which log formats tracecli reads."""

from __future__ import annotations

import typer

from tracecli.cli.common import FormatOption, guarded
from tracecli.render.output import OutputFormat


@guarded
def formats(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List the readers; `tracecli ingest --format NAME` forces one."""
    from tracecli.cli.common import environment
    from tracecli.ingest.formats.registry import READERS
    from tracecli.render import columns
    from tracecli.render.output import emit

    emit([{"name": r.name, "description": r.description} for r in READERS], columns.FORMATS, fmt,
         env=environment(ctx))
