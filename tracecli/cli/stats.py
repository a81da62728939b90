"""`tracecli stats`: calls, errors, latency percentiles, tokens, cost, cache and feedback per group."""

from __future__ import annotations

import typer

from tracecli.cli.common import (
    ByOption,
    DbOption,
    FilterArgs,
    FormatOption,
    FromOption,
    NoPagerOption,
    filtered,
    guarded,
)
from tracecli.render.output import OutputFormat


@guarded
@filtered
def stats(
    ctx: typer.Context,
    filters: FilterArgs,
    by: ByOption = "model",
    db: DbOption = None,
    from_: FromOption = None,
    no_pager: NoPagerOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Metrics of LLM and embedding calls per group, with a total: calls, errors, latency
    percentiles, tokens, cost, cache hits and what they saved, retries and user feedback."""
    from tracecli.cli.common import environment, read_store
    from tracecli.read.cost import parse_group
    from tracecli.read.stats import group_metrics
    from tracecli.render import columns
    from tracecli.render.output import emit

    grouping = parse_group(by)
    wanted = filters.parse()
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        rows, total = group_metrics(con, grouping, wanted)
    document = {"by": grouping.label, "rows": rows,
                "total": {k: v for k, v in total.items() if k != "group"}}
    if fmt in (OutputFormat.json, OutputFormat.jsonl):
        emit(rows, columns.STATS_MONEY, fmt, document=document, env=env)
    else:
        emit([columns.flatten(r) for r in rows], columns.stats(grouping.label), fmt,
             footer=columns.flatten(total), env=env, pager=not no_pager)
