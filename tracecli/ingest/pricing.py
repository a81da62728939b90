"""Costs for calls whose log carries none, from genai-prices' offline table.

Rates are looked up once per (provider, model) and applied in SQL, so pricing a million rows
costs a handful of look-ups. A model the table does not know stays unpriced (NULL), never $0."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import duckdb

PER = 1_000_000

# gateway provider names that differ from genai-prices provider ids
_PROVIDER_ALIASES = {"azure-openai": "azure", "azure_openai": "azure", "vertex-ai": "google",
                     "vertex_ai": "google", "gemini": "google", "bedrock": "aws", "anthropic": "anthropic"}


@dataclass(frozen=True)
class Rates:
    """USD per token."""

    input: float
    cached_input: float
    output: float


def _candidates(model: str) -> list[str]:
    """The model as logged, then its last path segment (`openai/gpt-4o`, Vertex resource paths)."""
    names = [model]
    tail = model.rsplit("/", 1)[-1]
    if tail != model:
        names.append(tail)
    return names


def lookup(provider: str | None, model: str) -> Rates | None:
    from genai_prices import Usage, calc_price  # slow import: only when something needs pricing

    provider_id = _PROVIDER_ALIASES.get((provider or "").lower(), provider or None)
    for name in _candidates(model):
        for pid in ([provider_id, None] if provider_id else [None]):
            try:
                def price(usage: Usage, name: str = name, pid: str | None = pid) -> Decimal:
                    return calc_price(usage, model_ref=name, provider_id=pid).total_price

                return Rates(
                    input=float(price(Usage(input_tokens=PER))) / PER,
                    cached_input=float(price(Usage(input_tokens=PER, cache_read_tokens=PER))) / PER,
                    output=float(price(Usage(output_tokens=PER))) / PER,
                )
            except (LookupError, ValueError):
                continue
    return None


def price_missing(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Fill cost_usd for this ingest's spans that logged none (they are the store's newest rows,
    so the scans below skip everything older by zone maps)."""
    models = con.execute(
        "SELECT DISTINCT provider, model FROM spans WHERE ingest_id = $1 AND cost_usd IS NULL "
        "AND kind IN ('llm', 'embedding') AND model IS NOT NULL", [ingest_id]
    ).fetchall()
    rows = []
    for provider, model in models:
        rates = lookup(provider, model)
        if rates is not None:
            rows.append((provider, model, rates.input, rates.cached_input, rates.output))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE price_rates (provider VARCHAR, model VARCHAR, "
        "r_in DOUBLE, r_cached DOUBLE, r_out DOUBLE)"
    )
    if rows:
        con.executemany("INSERT INTO price_rates VALUES (?, ?, ?, ?, ?)", rows)
        con.execute(
            """UPDATE spans AS b SET
                 cost_usd = (coalesce(b.prompt_tokens, 0) - coalesce(b.cached_tokens, 0)) * r.r_in
                            + coalesce(b.cached_tokens, 0) * r.r_cached
                            + coalesce(b.completion_tokens, 0) * r.r_out,
                 cost_source = 'computed'
               FROM price_rates r
               WHERE b.ingest_id = $1 AND b.cost_usd IS NULL AND b.model = r.model
                 AND b.provider IS NOT DISTINCT FROM r.provider
                 AND (b.prompt_tokens IS NOT NULL OR b.completion_tokens IS NOT NULL)""",
            [ingest_id],
        )
    con.execute(
        "UPDATE spans SET cost_source = 'unpriced' WHERE ingest_id = $1 AND cost_usd IS NULL "
        "AND kind IN ('llm', 'embedding')", [ingest_id]
    )
