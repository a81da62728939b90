"""Ingest progress (a Rich bar on stderr, only on a terminal) and the closing summary line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from tracecli.ingest.inputs import Source
from tracecli.ingest.pipeline import IngestResult
from tracecli.ingest.pipeline import Progress as ProgressCallback
from tracecli.render.text import one_line


@contextmanager
def progress_reporter(stderr: Console, *, enabled: bool) -> Iterator[ProgressCallback | None]:
    if not enabled:
        yield None
        return
    bar = Progress(TextColumn("ingest {task.description}"), BarColumn(), DownloadColumn(),
                   TimeElapsedColumn(), console=stderr, transient=True)
    task = bar.add_task("", total=None)

    def advance(source: Source, done: int, total: int) -> None:
        # a file name is data: no markup, no control characters
        bar.update(task, completed=done, total=total, description=escape(one_line(source.label, 60)))

    with bar:
        yield advance


def summary(r: IngestResult) -> str:
    formats = ", ".join(f"{n:,} {name}" for name, n in sorted(r.by_format.items())) or "none"
    return (
        f"ingested {r.files:,} file(s): {r.records:,} records ({formats}); "
        f"added {r.spans_added:,} spans "
        + (f"and the messages of {r.content_added:,} calls from log records " if r.content_added else "")
        + f"in {r.traces:,} traces "
        f"({r.llm_calls:,} LLM calls, {r.tool_calls:,} tool calls); "
        + (f"added {r.feedback_added:,} feedback; " if r.feedback_added else "")
        + f"{r.duplicates:,} already stored; skipped {r.skipped:,}; "
        f"{r.seconds:.2f} s, {r.rows_per_second:,.0f} rows/s, {r.mb_per_second:,.1f} MB/s"
    )


def skipped_report(r: IngestResult, rejects: str | None) -> str:
    """--skip-bad: how much was set aside, and where the first few were."""
    parts = []
    if r.skipped:
        parts.append(f"{r.skipped:,} bad record(s)")
    if r.skipped_files:
        parts.append(f"{r.skipped_files:,} unreadable file(s)")
    lines = [f"skipped {' and '.join(parts)}" + (f"; their raw lines are in {one_line(rejects)}" if rejects and r.skipped else "")
             + (":" if r.problems else "")]
    lines += [f"  {one_line(p, 300)}" for p in r.problems]
    return "\n".join(lines)
