"""The readers tracecli knows, in detection order (most specific first)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb

from tracecli.errors import BadInput
from tracecli.ingest.formats import (
    feedback,
    langfuse,
    langsmith,
    litellm,
    mlflow,
    openai_agents,
    openai_rows,
    openinference,
    otlp,
    portkey,
)
from tracecli.ingest.formats import shapes as convert
from tracecli.ingest.formats import tracecli_spans as canonical
from tracecli.ingest.formats.base import Reader, ReadOptions

READERS: list[Reader] = [
    canonical.READER,
    portkey.READER,
    litellm.READER,
    langsmith.READER,
    langfuse.READER,
    openinference.PHOENIX_READER,
    openinference.OTLP_READER,
    otlp.READER,
    openai_agents.READER,
    mlflow.READER,
    openai_rows.READER,
    feedback.READER,
]


def install_macros(con: duckdb.DuckDBPyConnection, readers: Iterable[Reader], options: ReadOptions) -> None:
    """The SQL macros (beyond tracecli.sql.macros, installed first) that these readers' mappings
    call: only those, as DuckDB takes a few ms to bind each one and a Portkey file needs none
    of the OpenTelemetry ones."""
    texts = [reader.select(options) for reader in {r.name: r for r in readers}.values()]
    for sql in _needed(texts):
        con.execute(sql)


_DEFINES = re.compile(r"CREATE OR REPLACE TEMP MACRO (\w+)")
_CALLS = re.compile(r"\b(tcx_\w+)\s*\(")


def _needed(texts: list[str]) -> list[str]:
    """The macros `texts` call and those they call in turn, in the order they are defined."""
    defined = {found.group(1): sql for sql in convert.MACROS if (found := _DEFINES.search(sql))}
    wanted: set[str] = set()
    todo = [name for text in texts for name in _CALLS.findall(text)]
    while todo:
        name = todo.pop()
        if name in defined and name not in wanted:
            wanted.add(name)
            todo.extend(_CALLS.findall(defined[name]))
    return [sql for name, sql in defined.items() if name in wanted]


def by_name(name: str) -> Reader:
    for reader in READERS:
        if reader.name == name:
            return reader
    raise BadInput(f"unknown format {name!r}; known: {', '.join(r.name for r in READERS)}")
