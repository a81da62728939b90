"""`tracecli check`: budgets on cost, latency, errors, tokens and cache hits, as a CI gate."""

from __future__ import annotations

from typing import Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, guarded
from tracecli.render.output import OutputFormat


def _limit(help: str) -> object:
    return typer.Option(metavar="LIMIT", help=help, rich_help_panel="Budgets")


@guarded
def check(
    ctx: typer.Context,
    max_cost: Annotated[str | None, _limit("Total cost in USD at most this: 0.50 or $0.50.")] = None,
    max_cost_per_trace: Annotated[str | None, _limit("No trace costs more than this (USD).")] = None,
    max_p95_latency: Annotated[str | None, _limit("p95 call latency at most this: 1500ms, 8s, 2m.")] = None,
    max_error_rate: Annotated[str | None, _limit("Share of calls that failed at most this: 1% or 0.01.")] = None,
    max_tokens: Annotated[str | None, _limit("Prompt plus completion tokens at most this.")] = None,
    min_cache_hit_rate: Annotated[str | None, _limit("Share of calls answered by the gateway's cache "
                                                     "(HIT or SEMANTIC HIT) at least this: 20% or 0.2.")] = None,
    where: Annotated[list[str] | None, typer.Option(
        "--where", metavar="model=M|tag:KEY=VALUE", help="Only these calls count for the budgets "
        "above (repeatable: tags all match, models any).", rich_help_panel="Budgets")] = None,
    budget: Annotated[str | None, typer.Option(
        "--budget", metavar="FILE.toml", help="Named checks from a TOML file ([[check]] tables; "
        "see the README).", rich_help_panel="Budgets")] = None,
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Pass when there are no LLM calls (by default input without calls "
        "fails: a CI step that logged nothing should not pass).")] = False,
    db: DbOption = None,
    from_: FromOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Check budgets on LLM calls: exit 0 when every one holds, 1 when one is broken (or there are
    no calls), 2 on a usage error. One row per budget: limit, measured value, pass or fail."""
    from tracecli.cli.common import environment, read_store
    from tracecli.errors import ExitCode, TraceCliError
    from tracecli.read import budget as budgets
    from tracecli.render import columns
    from tracecli.render.budget import for_format
    from tracecli.render.output import emit

    given = {"max_cost": max_cost, "max_cost_per_trace": max_cost_per_trace,
             "max_p95_latency": max_p95_latency, "max_error_rate": max_error_rate,
             "max_tokens": max_tokens, "min_cache_hit_rate": min_cache_hit_rate}
    options = budgets.from_options(given, where or [])
    checks = ([options] if options else []) + (budgets.from_file(budget) if budget else [])
    if not checks:
        raise TraceCliError("nothing to check: give a budget (--max-cost 0.50, ...) or --budget "
                            "FILE.toml", ExitCode.USAGE)
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        rows, calls = budgets.evaluate(con, checks, allow_empty)
    failed = [r for r in rows if r["result"] == "fail"]
    shown = for_format(rows, fmt)
    document = {"passed": not failed and (calls > 0 or allow_empty), "calls": calls, "checks": shown}
    emit(shown, columns.CHECKS, fmt, document=document, env=env)
    if not calls and not allow_empty:
        raise TraceCliError("no LLM calls in the input: every budget fails (--allow-empty to pass)")
    if failed:
        broken = ", ".join(f"{r['name']} {r['budget']}" for r in failed)
        raise TraceCliError(f"budget broken: {len(failed)} of {len(rows)} failed ({broken})")
