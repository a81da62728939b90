"""`tracecli formats`: which log formats tracecli reads."""

from __future__ import annotations

from tracecli.cli.common import FormatOption, guarded
from tracecli.render.output import Column, OutputFormat

COLUMNS = [Column("name", "format"), Column("description", "reads")]


@guarded
def formats(fmt: FormatOption = OutputFormat.table) -> None:
    """List the readers; `tracecli ingest --format NAME` forces one."""
    from tracecli.ingest.formats.registry import READERS
    from tracecli.render.output import emit

    emit([{"name": r.name, "description": r.description} for r in READERS], COLUMNS, fmt)
