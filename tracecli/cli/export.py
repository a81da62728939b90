"""`tracecli export`: everything the store holds that `tracecli ingest` restores, as JSONL."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from tracecli.cli.common import DbOption, FilterArgs, FromOption, filtered, guarded
from tracecli.environment import Environment
from tracecli.errors import ExitCode, TraceCliError

if TYPE_CHECKING:
    from tracecli.read.export import Chunk


@guarded
@filtered
def export(
    ctx: typer.Context,
    filters: FilterArgs,
    trace: Annotated[str | None, typer.Option("--trace", metavar="TRACE_ID", help="Only this trace (a unique prefix is enough).")] = None,
    output: Annotated[str | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (whole, or not at all) instead of stdout.")] = None,
    db: DbOption = None,
    from_: FromOption = None,
) -> None:
    """Write the store as JSONL that `tracecli ingest` restores: every span and every feedback record.

    Filters pick whole traces, as `tracecli traces` does; their feedback comes with them."""
    from tracecli.cli.common import environment, read_store
    from tracecli.read.export import export_chunks
    from tracecli.read.listing import resolve_trace_id

    wanted = filters.parse()
    env = environment(ctx)
    if output and not from_:
        _not_the_store(output, db)
    with read_store(db, from_, env) as con:
        trace_id = resolve_trace_id(con, trace) if trace else None
        chunks = export_chunks(con, wanted, trace_id)
        counts = _to_file(chunks, output) if output else _to_stdout(chunks, env)
    _report(counts, output, env)


def _not_the_store(output: str, db: str | None) -> None:
    """An export written over the store it reads would destroy both."""
    from tracecli.store.connection import MEMORY, db_path

    store = db_path(db)
    if store != MEMORY and Path(output).resolve() == Path(store).resolve():
        raise TraceCliError(f"--output {output} is the store itself", ExitCode.USAGE)


def _write(chunks: Iterable[Chunk], stream: TextIO, counts: Counter[str],
           terminal: bool = False) -> None:
    """The chunks' text on `stream` (JSON escapes for what would drive a terminal), counted."""
    from tracecli.render.text import terminal_json

    for chunk in chunks:
        stream.write(terminal_json(chunk.text) if terminal else chunk.text)
        counts[chunk.part] += chunk.lines
    stream.flush()


def _to_stdout(chunks: Iterable[Chunk], env: Environment) -> Counter[str]:
    """A reader that goes away (`| head`) leaves an export cut short: an error, not a quiet end."""
    from tracecli.cli.common import silence_broken_pipe

    counts: Counter[str] = Counter()
    try:
        _write(chunks, env.stdout, counts, terminal=env.stdout_isatty)
    except BrokenPipeError:
        silence_broken_pipe(env)
        raise TraceCliError("output closed before the export ended: it is incomplete") from None
    return counts


def _to_file(chunks: Iterable[Chunk], output: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    try:
        with _replacing(Path(output)) as stream:
            _write(chunks, stream, counts)
    except OSError as exc:
        raise TraceCliError(f"--output {output}: {exc.strerror or exc}") from exc
    return counts


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A file that appears whole when the block ends, and not at all when it fails (a full
    disk, Ctrl-C): an export cut short would read back as a smaller store. A device or pipe
    (/dev/null, a FIFO) is written as it is."""
    if path.exists() and not path.is_file():
        with path.open("w", encoding="utf-8") as stream:
            yield stream
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, "w", encoding="utf-8") as stream:
            yield stream
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _report(counts: Counter[str], output: str | None, env: Environment) -> None:
    """What was written, on stderr; content waiting for its span only when there was some."""
    from tracecli.render import console

    told = [f"{counts['spans']:,} spans", f"{counts['feedback']:,} feedback records"]
    if counts["content"]:
        told.append(f"{counts['content']:,} content records waiting for their spans")
    where = f" to {output}" if output else ""
    console.err(env).print(f"exported {', '.join(told)}{where}", markup=False, highlight=False)
