"""`tracecli replay`: play a recorded run back step by step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, guarded
from tracecli.render.output import OutputFormat

if TYPE_CHECKING:
    from tracecli.environment import Environment
    from tracecli.read.tree import TraceTree


@guarded
def replay(
    ctx: typer.Context,
    trace_id: Annotated[str, typer.Argument(metavar="TRACE_ID", help="Trace id, or a unique prefix of one.")],
    db: DbOption = None,
    from_: FromOption = None,
    speed: Annotated[float, typer.Option("--speed", help="Playback speed: 1 = as recorded, "
                                         "10 = ten times faster, 0 = no waiting.")] = 1.0,
    step: Annotated[bool, typer.Option("--step", help="Wait for Enter between steps.")] = False,
    max_wait: Annotated[float, typer.Option("--max-wait", help="Longest pause between two steps, "
                                            "in seconds.")] = 5.0,
    endpoint: Annotated[str | None, typer.Option("--endpoint", metavar="URL", rich_help_panel="Re-execute",
                                                 help="Send each recorded chat request again to this "
                                                 "OpenAI-compatible base URL (e.g. http://localhost:8000/v1) "
                                                 "and compare the answers.")] = None,
    model: Annotated[str | None, typer.Option("--model", metavar="MODEL", rich_help_panel="Re-execute",
                                              help="With --endpoint: ask this model instead of the recorded one.")] = None,
    api_key_env: Annotated[str, typer.Option("--api-key-env", metavar="VAR", rich_help_panel="Re-execute",
                                             help="With --endpoint: environment variable holding the API key.")] = "OPENAI_API_KEY",
    timeout: Annotated[float, typer.Option("--timeout", rich_help_panel="Re-execute",
                                           help="With --endpoint: seconds to wait for each response "
                                           "(at least 0.1).")] = 60.0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Play a recorded run back: what was sent, what came back, each tool call and its result.
    With --endpoint, re-execute its requests and compare."""
    from tracecli.cli.common import check_number, environment, read_store
    from tracecli.read.replay import steps as replay_steps
    from tracecli.read.tree import build
    from tracecli.render import console

    check_number(speed, "--speed")
    check_number(max_wait, "--max-wait")
    check_number(timeout, "--timeout", least=0.1)
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        tree = build(con, trace_id)
    if endpoint:
        _compare(env, tree, endpoint, model, env.environ.get(api_key_env), timeout, fmt)
        return
    plan = replay_steps(tree)
    if fmt is not OutputFormat.table:
        from tracecli.render import columns
        from tracecli.render.output import emit

        emit([s.to_dict() for s in plan], columns.REPLAY_STEPS, fmt, env=env)
        return
    from tracecli.render.replay import play

    def wait_for_enter() -> None:
        console.err(env).print("[Enter] next step", markup=False, end="")
        env.stdin.readline()

    play(plan, console.out(env), speed=speed, max_wait=max_wait,
         wait_for_enter=wait_for_enter if step else None)


def _compare(env: Environment, tree: TraceTree, endpoint: str, model: str | None,
             api_key: str | None, timeout: float, fmt: OutputFormat) -> None:
    from tracecli.errors import ExitCode, TraceCliError
    from tracecli.read.reexec import OpenAICompatible, reexecute
    from tracecli.render.reexec import COLUMNS, rows

    client = OpenAICompatible(endpoint, api_key, timeout)
    try:
        results = reexecute(tree, client, model=model)
    finally:
        client.close()
    if not results:
        raise TraceCliError("this trace has no chat requests to re-execute", ExitCode.NOT_FOUND)
    from tracecli.render.output import emit

    if fmt in (OutputFormat.json, OutputFormat.jsonl):
        emit([r.to_dict() for r in results], COLUMNS, fmt, env=env)
    else:
        emit(rows(results), COLUMNS, fmt, env=env)
