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


_RATES_TABLE = """CREATE OR REPLACE TEMP TABLE price_rates (
  provider VARCHAR, model VARCHAR, r_in DOUBLE, r_cached DOUBLE, r_out DOUBLE)"""

_ADD_RATES = """INSERT INTO price_rates BY NAME
SELECT $provider AS provider, $model AS model, $r_in AS r_in, $r_cached AS r_cached, $r_out AS r_out"""

# Calls that logged no cost but some tokens, at their model's rates.
_PRICE = """UPDATE spans AS b SET
  cost_usd = tc_priced(b.prompt_tokens, b.cached_tokens, b.completion_tokens,
                       r.r_in, r.r_cached, r.r_out),
  cost_source = 'computed'
FROM price_rates r
WHERE b.ingest_id = $ingest_id AND b.cost_usd IS NULL AND b.model = r.model
  AND b.provider IS NOT DISTINCT FROM r.provider
  AND (b.prompt_tokens IS NOT NULL OR b.completion_tokens IS NOT NULL)"""


def price_missing(con: duckdb.DuckDBPyConnection, ingest_id: int) -> None:
    """Fill cost_usd for this ingest's spans that logged none (they are the store's newest rows,
    so the scans below skip everything older by zone maps)."""
    params = {"ingest_id": ingest_id}
    models = con.execute(
        "SELECT DISTINCT provider, model FROM spans WHERE ingest_id = $ingest_id "
        "AND cost_usd IS NULL AND tc_is_call(kind) AND model IS NOT NULL", params
    ).fetchall()
    rates = _known_rates(models)
    con.execute(_RATES_TABLE)
    if rates:
        con.executemany(_ADD_RATES, rates)
        con.execute(_PRICE, params)
    con.execute(
        "UPDATE spans SET cost_source = 'unpriced' WHERE ingest_id = $ingest_id "
        "AND cost_usd IS NULL AND tc_is_call(kind)", params
    )


def _known_rates(models: list[tuple[str | None, str]]) -> list[dict[str, object]]:
    """The rates of the (provider, model) pairs the price table knows, as rows of price_rates."""
    rows: list[dict[str, object]] = []
    for provider, model in models:
        rates = lookup(provider, model)
        if rates is not None:
            rows.append({"provider": provider, "model": model, "r_in": rates.input,
                         "r_cached": rates.cached_input, "r_out": rates.output})
    return rows
