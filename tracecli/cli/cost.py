"""`tracecli cost`: totals by model, provider, trace, day or tag."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FilterArgs, FormatOption, FromOption, filtered, guarded
from tracecli.render.output import OutputFormat


@guarded
@filtered
def cost(
    ctx: typer.Context,
    filters: FilterArgs,
    by: Annotated[str, typer.Option("--by", metavar="GROUP", help="model, provider, trace, day, kind, tag (every "
                                    "key=value) or tag:KEY (one key's values).")] = "model",
    db: DbOption = None,
    from_: FromOption = None,
    prices: Annotated[str, typer.Option("--prices", metavar="logged|table", help="logged: each "
                                        "call's logged cost, else the table's; table: re-price every "
                                        "call from genai-prices' current table.")] = "logged",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Total cost and tokens of LLM and embedding calls. Costs come from the logs where logged,
    else from genai-prices' table (computed); calls to models it does not know are unpriced."""
    from tracecli.cli.common import environment, read_store
    from tracecli.read.cost import parse_group, totals
    from tracecli.render import columns
    from tracecli.render.output import emit

    grouping = parse_group(by)
    wanted = filters.parse()
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        rows, total = totals(con, grouping, wanted, prices)
    document = {"by": grouping.label, "prices": prices, "rows": rows, "total": {k: v for k, v in total.items() if k != "group"}}
    emit(rows, columns.cost(grouping.label), fmt, footer=total, document=document, env=env)
