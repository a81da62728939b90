"""`tracecli replay`: play a recorded run back step by step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tracecli.cli.common import DbOption, FormatOption, FromOption, guarded
from tracecli.cli.completion import TraceIdArgument
from tracecli.render.output import OutputFormat

if TYPE_CHECKING:
    from tracecli.environment import Environment
    from tracecli.read.endpoint import Endpoint
    from tracecli.read.tree import TraceTree


@guarded
def replay(
    ctx: typer.Context,
    trace_id: TraceIdArgument,
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
    header: Annotated[list[str] | None, typer.Option("--header", metavar="K:V", rich_help_panel="Re-execute",
                                                     help="With --endpoint: an HTTP header to send "
                                                     "(repeatable).")] = None,
    timeout: Annotated[float, typer.Option("--timeout", rich_help_panel="Re-execute",
                                           help="With --endpoint: seconds each call may take in all, "
                                           "retries and waits included (at least 0.1).")] = 60.0,
    keep_going: Annotated[bool, typer.Option("--continue-on-divergence", rich_help_panel="Re-execute",
                                             help="With --endpoint: send on past the first divergence, "
                                             "every later step counterfactual.")] = False,
    each_call: Annotated[bool, typer.Option("--each-call", rich_help_panel="Re-execute",
                                            help="With --endpoint: re-send each recorded request on "
                                            "its own and compare call by call, instead of running "
                                            "the agent.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", rich_help_panel="Re-execute",
                                          help="With --endpoint: print the first request that would "
                                          "be sent (credentials masked) and send nothing.")] = False,
    no_store: Annotated[bool, typer.Option("--no-store", rich_help_panel="Re-execute",
                                           help="With --endpoint: keep the replayed calls out of "
                                           "the store.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Play a recorded run back: what was sent, what came back, each tool call and its result.
    With --endpoint, run the agent again against that model, recorded tool results fed back,
    up to the first divergence (exit 1), and store the replayed calls as a trace."""
    from tracecli.cli.common import check_number, environment, read_store
    from tracecli.read.replay import steps as replay_steps
    from tracecli.read.tree import build
    from tracecli.render import console

    check_number(speed, "--speed")
    check_number(max_wait, "--max-wait")
    check_number(timeout, "--timeout", least=0.1)
    _check_modes(endpoint, model, header, keep_going, each_call, dry_run, no_store)
    env = environment(ctx)
    with read_store(db, from_, env) as con:
        tree = build(con, trace_id)
    if endpoint:
        from tracecli.read.endpoint import Endpoint

        client = Endpoint(endpoint, api_key=env.environ.get(api_key_env), timeout=timeout,
                          headers=_headers(header or []))
        try:
            if dry_run:
                _dry_run(env, tree, client, model)
            elif each_call:
                _compare(env, tree, client, model, fmt)
            else:
                _rerun(env, tree, client, model, keep_going, db, no_store, fmt)
        finally:
            client.close()
        return
    plan = replay_steps(tree)
    if fmt is not OutputFormat.table:
        from tracecli.render import columns
        from tracecli.render.output import emit

        emit([s.to_dict() for s in plan], columns.REPLAY_STEPS, fmt, env=env)
        return
    from tracecli.render.replay import play

    def wait_for_enter() -> bool:
        console.err(env).print("[Enter] next step, q quits", markup=False, end="")
        line = env.stdin.readline()
        return line.strip().lower() != "q"

    play(plan, console.out(env), speed=speed, max_wait=max_wait,
         wait_for_enter=wait_for_enter if step else None)


def _check_modes(endpoint: str | None, model: str | None, header: list[str] | None,
                 keep_going: bool, each_call: bool, dry_run: bool, no_store: bool) -> None:
    """Options of --endpoint without it, or two that exclude each other, are usage errors."""
    from tracecli.errors import ExitCode, TraceCliError

    given = {"--model": model is not None, "--header": bool(header),
             "--continue-on-divergence": keep_going, "--each-call": each_call,
             "--dry-run": dry_run, "--no-store": no_store}
    if not endpoint and any(given.values()):
        raise TraceCliError(f"{next(k for k, v in given.items() if v)} goes with --endpoint URL",
                            ExitCode.USAGE)
    if each_call and (keep_going or no_store):
        raise TraceCliError("--each-call compares call by call: it neither runs on past a "
                            "divergence nor stores anything", ExitCode.USAGE)


def _headers(texts: list[str]) -> dict[str, str]:
    from tracecli.errors import ExitCode, TraceCliError

    out = {}
    for text in texts:
        name, sep, value = text.partition(":")
        if not sep or not name.strip():
            raise TraceCliError("--header: expected NAME:VALUE (the value is not echoed: it "
                                "may be a credential)", ExitCode.USAGE)
        out[name.strip()] = value.strip()
    return out


def _dry_run(env: Environment, tree: TraceTree, client: Endpoint, model: str | None) -> None:
    """The first request as it would go out: method, URL, headers and body, credentials masked."""
    from tracecli.read.endpoint import MASK, safe_url, secret_name
    from tracecli.read.rerun import first_request
    from tracecli.render.output import write_json

    headers = {k: MASK if secret_name(k) else v for k, v in client.headers.items()}
    write_json({"method": "POST", "url": safe_url(client.url), "headers": headers,
                "body": first_request(tree, model)}, env)


def _rerun(env: Environment, tree: TraceTree, client: Endpoint, model: str | None,
           keep_going: bool, db: str | None, no_store: bool, fmt: OutputFormat) -> None:
    """The agent run again; its calls stored (in --db's store, the default one with --from)
    unless --no-store, which prices them in a store of the moment."""
    from tracecli.cli.common import busy_wait
    from tracecli.errors import ExitCode
    from tracecli.read.endpoint import safe_url
    from tracecli.read.rerun import replay as rerun
    from tracecli.read.rerun import store, to_dict
    from tracecli.render.rerun import write
    from tracecli.store.connection import MEMORY, open_store

    run = rerun(tree, client.chat, model=model, keep_going=keep_going)
    where = safe_url(client.url.removesuffix("/chat/completions"))
    con = open_store(MEMORY if no_store else db, wait=busy_wait(env))
    try:
        stored = store(con, run, where)
    finally:
        con.close()
    doc = to_dict(run, stored, where, kept=not no_store)
    write(doc, fmt, env)
    if doc["divergence"] is not None:
        raise typer.Exit(int(ExitCode.ERROR))


def _compare(env: Environment, tree: TraceTree, client: Endpoint, model: str | None,
             fmt: OutputFormat) -> None:
    from tracecli.errors import ExitCode, TraceCliError
    from tracecli.read.reexec import reexecute
    from tracecli.render.reexec import COLUMNS, rows

    results = reexecute(tree, client.chat, model=model)
    if not results:
        raise TraceCliError("this trace has no chat requests to re-execute", ExitCode.NOT_FOUND)
    from tracecli.render.output import emit

    if fmt in (OutputFormat.json, OutputFormat.jsonl):
        emit([r.to_dict() for r in results], COLUMNS, fmt, env=env)
    else:
        emit(rows(results), COLUMNS, fmt, env=env)
