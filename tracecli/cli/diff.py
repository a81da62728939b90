"""`tracecli diff BASE HEAD`: two runs compared, metrics and agent steps, optionally as a gate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracecli.cli.common import DbOption, FilterArgs, FormatOption, FromOption, filtered, guarded
from tracecli.errors import ExitCode, TraceCliError
from tracecli.render.output import OutputFormat

if TYPE_CHECKING:
    from contextlib import ExitStack

    from tracecli.environment import Environment
    from tracecli.read.diff import Side
    from tracecli.read.filters import Filters


@guarded
@filtered
def diff(
    ctx: typer.Context,
    filters: FilterArgs,
    base: Annotated[str | None, typer.Argument(metavar="[BASE]", show_default=False, help="The run "
                                               "before: a file, folder, glob or - (stdin).")] = None,
    head: Annotated[str | None, typer.Argument(metavar="[HEAD]", show_default=False, help="The run "
                                               "after, read the same way into a store of its own.")] = None,
    db: DbOption = None,
    from_: FromOption = None,
    base_tag: Annotated[list[str] | None, typer.Option(
        "--base-tag", metavar="KEY=VALUE", rich_help_panel="Input", help="Select base by tag "
        "(repeatable, all must match): within BASE, or, without files, in one store (--db or "
        "--from) with --head-tag.")] = None,
    head_tag: Annotated[list[str] | None, typer.Option(
        "--head-tag", metavar="KEY=VALUE", rich_help_panel="Input",
        help="Select head by tag, as --base-tag does base.")] = None,
    match: Annotated[str, typer.Option("--match", metavar="message|name|id|tag:KEY", help="How a "
                                       "task of base is found in head: the first user message "
                                       "(default), the trace's name, its id, or a tag's value (a "
                                       "bare KEY too). Repeats pair in order.")] = "message",
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", metavar="GATE", help="Exit 1 when a gate trips: cost>+10%, tokens>+5%, "
        "p95>+20%, p50>+300ms, errors>+1 (error rate, points), calls>+0, divergence. Repeatable "
        "or comma-separated; relative to base's totals.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Compare two runs: calls, tokens, cost, latency and error rate per model and per tag, and
    the first step where each agent task's two runs part. Exit 1 when a --fail-on gate trips."""
    from contextlib import ExitStack

    from tracecli.cli.common import environment
    from tracecli.read.diff import compare, parse_gates, parse_match
    from tracecli.render.diff import write

    env = environment(ctx)
    gates = parse_gates(fail_on or [])
    how = parse_match(match)
    with ExitStack() as stack:
        sides = _sides(stack, env, filters.parse(), base, head, db, from_, base_tag, head_tag)
        report = compare(*sides, how, gates)
    write(report, fmt, env)
    if report.failed:
        raise typer.Exit(int(ExitCode.ERROR))


def _sides(stack: ExitStack, env: Environment, shared: Filters, base: str | None,
           head: str | None, db: str | None, from_: list[str] | None,
           base_tag: list[str] | None, head_tag: list[str] | None) -> tuple[Side, Side]:
    """Base and head: each file read into a store of its own, or two tag selections of one."""
    from dataclasses import replace

    from tracecli.cli.common import read_store
    from tracecli.read.diff import Side
    from tracecli.read.filters import parse_tags

    tags = [parse_tags(base_tag, "--base-tag"), parse_tags(head_tag, "--head-tag")]
    wanted = [replace(shared, tags=[*shared.tags, *t]) for t in tags]
    if base is not None and head is not None:
        if from_:
            raise TraceCliError("BASE and HEAD are read as files: --from goes with --base-tag "
                                "and --head-tag instead", ExitCode.USAGE)
        if base == head == "-":
            raise TraceCliError("BASE and HEAD cannot both be - (stdin)", ExitCode.USAGE)
        b, h = (Side(_label(path, t), stack.enter_context(read_store(None, [path], env)), f)
                for path, t, f in zip((base, head), tags, wanted, strict=True))
        return b, h
    if base is not None:
        raise TraceCliError("give both BASE and HEAD, or neither (--base-tag and --head-tag "
                            "over one store)", ExitCode.USAGE)
    if not tags[0] or not tags[1]:
        raise TraceCliError("nothing to compare: give BASE and HEAD files, or --base-tag and "
                            "--head-tag to select both runs in one store", ExitCode.USAGE)
    if wanted[0] == wanted[1]:
        raise TraceCliError("--base-tag and --head-tag select the same run", ExitCode.USAGE)
    con = stack.enter_context(read_store(db, from_, env))
    return Side(_label(None, tags[0]), con, wanted[0]), Side(_label(None, tags[1]), con, wanted[1])


def _label(path: str | None, tags: list[tuple[str, str]]) -> str:
    """`base.jsonl`, `<stdin>`, `run=main`, `logs/ (run=main)`."""
    where = "<stdin>" if path == "-" else path
    selected = " ".join(f"{k}={v}" for k, v in tags)
    if where and selected:
        return f"{where} ({selected})"
    return where or selected
