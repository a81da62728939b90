"""The readers tracecli knows, in detection order (most specific first)."""

from __future__ import annotations

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
from tracecli.ingest.formats.base import Reader

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


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """SQL macros the readers below rely on beyond tracecli.sql.macros (installed first)."""
    convert.install(con)


def by_name(name: str) -> Reader:
    for reader in READERS:
        if reader.name == name:
            return reader
    raise BadInput(f"unknown format {name!r}; known: {', '.join(r.name for r in READERS)}")
