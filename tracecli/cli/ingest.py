"""`tracecli ingest`: read log files into the store."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from tracecli.cli.common import DbOption, busy_wait, environment, guarded
from tracecli.errors import TraceCliError
from tracecli.render import console

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


@guarded
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(metavar="PATH...", help="Files, directories, globs, or - for stdin "
                                                    "(.jsonl .ndjson .json .parquet, optionally .gz).")],
    db: DbOption = None,
    format_name: Annotated[str | None, typer.Option("--format", metavar="NAME", help="Skip detection: read every "
                                                    "input as this format (see `tracecli formats`).")] = None,
    portkey_cost_unit: Annotated[str, typer.Option("--portkey-cost-unit", metavar="cents|usd", help="Unit of Portkey's "
                                                   "`cost` field: cents (as its export docs say) or usd.")] = "cents",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")] = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Set aside records (and files) that "
                                           "cannot be read, say where they were, and ingest the rest. "
                                           "Without it, the first bad record stops the ingest and "
                                           "nothing is added.")] = False,
    rejects: Annotated[str | None, typer.Option("--rejects", metavar="FILE", help="With --skip-bad: "
                                                "write the raw lines set aside to FILE.")] = None,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Keep API keys, tokens and cookies "
                                            "in the stored logs (masked by default).")] = False,
) -> None:
    """Add log records to the store, all or nothing. Re-ingesting the same records adds nothing."""
    from tracecli.errors import ExitCode
    from tracecli.ingest.formats.base import ReadOptions
    from tracecli.ingest.pipeline import ingest as run_ingest
    from tracecli.render.ingest import progress_reporter, skipped_report, summary
    from tracecli.store.connection import open_store

    if portkey_cost_unit not in ("cents", "usd"):
        raise TraceCliError("--portkey-cost-unit must be cents or usd", ExitCode.USAGE)
    if rejects and not skip_bad:
        raise TraceCliError("--rejects needs --skip-bad", ExitCode.USAGE)
    options = ReadOptions(portkey_cost_unit=portkey_cost_unit, redact=not no_redact)  # type: ignore[arg-type]
    env = environment(ctx)
    con = open_store(db, wait=busy_wait(env))
    try:
        with _rejects_file(rejects) as rejected, \
                progress_reporter(console.err(env), enabled=not quiet and env.stderr_isatty) as progress:
            result = run_ingest(con, paths, format_name=format_name, options=options,
                                progress=progress, skip_bad=skip_bad, rejects=rejected)
    except OSError as exc:  # the temporary files of an ingest: inputs and rejects say their own
        raise TraceCliError(f"cannot ingest: {exc.strerror or exc}") from exc
    finally:
        con.close()
    if not quiet:
        console.err(env).print(summary(result), markup=False, highlight=False)
    if result.skipped or result.skipped_files:
        console.err(env).print(skipped_report(result, rejects), markup=False, highlight=False)


class _Rejects(io.BufferedWriter):
    """--rejects FILE: a failure to write it (a full disk) names the option, and only it."""

    def write(self, data: ReadableBuffer) -> int:
        try:
            return super().write(data)
        except OSError as exc:
            raise _blame_rejects(self.name, exc) from exc

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise _blame_rejects(self.name, exc) from exc


def _blame_rejects(path: object, exc: OSError) -> TraceCliError:
    return TraceCliError(f"--rejects {path}: {exc.strerror or exc}")


@contextmanager
def _rejects_file(path: str | None) -> Iterator[_Rejects | None]:
    """The rejects file, opened for writing (None without --rejects)."""
    if not path:
        yield None
        return
    try:
        raw = io.FileIO(path, "wb")
    except OSError as exc:
        raise _blame_rejects(path, exc) from exc
    with _Rejects(raw) as rejects:
        yield rejects
