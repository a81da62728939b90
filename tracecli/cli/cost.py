"""`tracecli cost`: totals by model, provider, trace, day or tag."""

from __future__ import annotations

from typing import Annotated

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
def cost(
    ctx: typer.Context,
    filters: FilterArgs,
    by: ByOption = "model",
    db: DbOption = None,
    from_: FromOption = None,
    prices: Annotated[str, typer.Option("--prices", metavar="logged|table", help="logged: each "
                                        "call's logged cost, else the table's; table: re-price every "
                                        "call from genai-prices' current table.")] = "logged",
    top_n: Annotated[int, typer.Option("--top", "--limit", "-n", metavar="N", help="Only the N "
                                       "costliest groups (0 = all); the total still counts "
                                       "every call.")] = 0,
    no_pager: NoPagerOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Total cost and tokens of LLM and embedding calls. Costs come from the logs where logged,
    else from genai-prices' table (computed); calls to models it does not know are unpriced."""
    from tracecli.cli.common import check_limit, environment, note_empty, read_store
    from tracecli.read.cost import parse_group, top, totals
    from tracecli.render import columns, console
    from tracecli.render.output import emit

    grouping = parse_group(by)
    check_limit(top_n, "--top")
    wanted = filters.parse()
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        every, total = totals(con, grouping, wanted, prices)
    rows, left_out = top(every, top_n)
    document = {"by": grouping.label, "prices": prices, "rows": rows, "total": {k: v for k, v in total.items() if k != "group"}}
    emit(rows, columns.cost(grouping.label), fmt, footer=total, document=document, env=env,
         pager=not no_pager)
    if not total.get("calls"):
        note_empty(env, "calls")
    if left_out:
        console.err(env).print(f"showing the top {len(rows):,} of {len(every):,} groups by cost: "
                               f"{left_out:,} left out, counted in the total; --top 0 for all",
                               markup=False, highlight=False)
