"""The query surface `tracecli sql` offers: views with stable names and columns over the store's
tables, defined here and nowhere else. They are part of the JSON-shapes promise (README: SQL
views): the tables under them may change between versions, the views keep their columns.

They are TEMP views, so that a read-only store needs no write to have them; each names its
table through the store's catalog, since a view named `spans` shadows the table `spans`."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from tracecli.ingest.formats import tracecli_spans as canonical
from tracecli.read.listing import FEEDBACK_FIELDS, FEEDBACK_JOIN, TRACE_FIELDS
from tracecli.sql import toolcalls
from tracecli.sql.template import fill, ident, literal


@dataclass(frozen=True)
class View:
    name: str
    body: str  # a SELECT; `{{store}}` is the store's catalog


_SPANS = fill("SELECT {{columns}} FROM {{store}}.main.spans",
              columns=", ".join(map(ident, canonical.EXPORTED)), keep=("store",))

_TRACES = fill("SELECT {{columns}}, {{feedback_fields}} FROM {{store}}.main.trace_summary t "
               "{{feedback_join}}",
               columns=", ".join(f"t.{c}" for c in TRACE_FIELDS), feedback_fields=FEEDBACK_FIELDS,
               feedback_join=FEEDBACK_JOIN, keep=("store",))

# Every call the spans asked for, over the `spans` view (which holds every column it reads).
_TOOL_CALLS = fill(toolcalls.ROWS, scope="true")

_FEEDBACK = """SELECT trace_id, value, weight, metadata, created_at, source_file, source_row
FROM {{store}}.main.feedback"""

# The cost roll-up's rows of no tag (tracecli.store.rollup), summed per day, provider and model:
# `cost --by day` without filters, split by model.
_COST_DAILY = """SELECT day, provider, model, CAST(sum(calls) AS BIGINT) AS calls,
       CAST(sum(prompt_tokens) AS BIGINT) AS prompt_tokens,
       CAST(sum(completion_tokens) AS BIGINT) AS completion_tokens,
       CAST(sum(total_tokens) AS BIGINT) AS total_tokens, fsum(cost_usd) AS cost_usd,
       CAST(sum(logged) AS BIGINT) AS logged, CAST(sum(computed) AS BIGINT) AS computed,
       CAST(sum(unpriced) AS BIGINT) AS unpriced
FROM {{store}}.main.cost_rollup WHERE tag_key IS NULL
GROUP BY day, provider, model"""

VIEWS = (
    View("spans", _SPANS),  # a row per span: the columns `spans --format jsonl` writes
    View("traces", _TRACES),  # a row per trace: the columns `traces --format json` writes
    View("tool_calls", _TOOL_CALLS),  # a row per tool call, with its result, in trace order
    View("feedback", _FEEDBACK),  # a row per user feedback record
    View("cost_daily", _COST_DAILY),  # calls' tokens and cost per day, provider and model
)


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the views on this connection (the store's tables stay as they are)."""
    row = con.execute("SELECT current_database()").fetchone()
    store = ident(str(row[0])) if row else "memory"
    for view in VIEWS:
        # tool_calls reads the spans view, not the store
        body = fill(view.body, store=store) if "{{store}}" in view.body else view.body
        con.execute(fill("CREATE OR REPLACE TEMP VIEW {{name}} AS {{body}}", name=ident(view.name),
                         body=body))


# The views' columns, in their order: `tracecli sql --schema`, answered as any query is.
SCHEMA = fill("""SELECT table_name AS view, column_name AS "column", data_type AS type
FROM information_schema.columns
WHERE table_catalog = 'temp' AND table_name IN ({{names}})
ORDER BY list_position([{{names}}], table_name), ordinal_position""",
              names=", ".join(literal(v.name) for v in VIEWS))
