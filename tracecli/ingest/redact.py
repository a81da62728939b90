"""Secrets are masked at ingest, before anything reaches the store, and in every error message.

One table of rules serves both DuckDB (RE2, as SQL macros over each input column while it is
read) and Python (`redact_text`, for messages). A masked value keeps a few characters at each
end so that two keys can still be told apart: `sk-proj-…REDACTED…x4Qz`. Every rule is
idempotent — a masked value is never masked again — so exports re-ingest unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import duckdb

from tracecli.sql.template import fill, literal

MASK = "…REDACTED…"
SHORT_MASK = "[REDACTED]"

# Header (or body) fields whose whole value is a credential, matched as JSON keys, any case.
SECRET_FIELDS = (
    "authorization", "proxy-authorization", "x-api-key", "api-key", "api_key", "apikey",
    "x-portkey-api-key", "x-portkey-virtual-key", "x-goog-api-key", "cookie", "set-cookie",
    "aws_secret_access_key", "x-amz-security-token",
)
_NAMES = "|".join(re.escape(n) for n in SECRET_FIELDS)
_FIELD = rf'("(?i:{_NAMES})"\s*:\s*")'  # up to the opening quote of the value
_PLAIN = r'[^"\\…]'  # a value character that is not an escape, a quote, or a mask already
# the same field inside a JSON string holding JSON (tool call arguments): quotes escaped
_ESCAPED_FIELD = rf'(\\"(?i:{_NAMES})\\"\s*:\s*\\")'

# (pattern, replacement), applied in order. RE2 and Python `re` read them alike.
RULES: list[tuple[str, str]] = [
    # OpenAI / Anthropic style keys: sk-…, sk-proj-…, sk-ant-api03-…
    (r"\b(sk-[A-Za-z0-9_\-]{5})[A-Za-z0-9_\-]{11,}([A-Za-z0-9_\-]{4})", rf"\1{MASK}\2"),
    # Bearer tokens, wherever they occur
    (r"(?i)\b(bearer\s+[A-Za-z0-9._~+/=\-]{4})[A-Za-z0-9._~+/=\-]{8,}([A-Za-z0-9._~+/=\-]{4})",
     rf"\1{MASK}\2"),
    # AWS access key ids
    (r"\b(AKIA|ASIA)[A-Z0-9]{12}([A-Z0-9]{4})\b", rf"\1{MASK}\2"),
    # credential fields: long values keep their ends, short ones are masked whole,
    # values with escapes in them are masked whole
    (rf"{_FIELD}({_PLAIN}{{4}}){_PLAIN}{{8,}}({_PLAIN}{{4}})\"", rf'\1\2{MASK}\3"'),
    (rf'{_FIELD}{_PLAIN}{{1,15}}"', rf'\1{SHORT_MASK}"'),
    (rf'{_FIELD}(?:[^"\\]|\\.)*\\.(?:[^"\\]|\\.)*"', rf'\1{SHORT_MASK}"'),
    (rf'{_ESCAPED_FIELD}({_PLAIN}{{4}}){_PLAIN}{{8,}}({_PLAIN}{{4}})\\"', rf'\1\2{MASK}\3\\"'),
    (rf'{_ESCAPED_FIELD}{_PLAIN}{{1,15}}\\"', rf'\1{SHORT_MASK}\\"'),
]

# Cheap test that a text may hold a secret: a superset of every rule above. Only text that
# passes it pays for the replacements.
MAYBE_SECRET = (
    r"(?i:authorization|api-key|api_key|apikey|virtual-key|cookie|bearer|secret_access"
    r"|security-token)|sk-|AKIA|ASIA"
)

_COMPILED = [(re.compile(p), r) for p, r in RULES]
_MAYBE = re.compile(MAYBE_SECRET)


def redact_text(text: str) -> str:
    """The same masking as ingest applies, for text shown to the user (error messages)."""
    if not _MAYBE.search(text):
        return text
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    return text


_STEP = "regexp_replace({{text}}, {{pattern}}, {{replacement}}, 'g')"


def _chain(arg: str) -> str:
    """`arg` as text, through every rule in order."""
    expr = fill("CAST({{arg}} AS VARCHAR)", arg=arg)
    for pattern, replacement in RULES:
        expr = fill(_STEP, text=expr, pattern=literal(pattern), replacement=literal(replacement))
    return expr


# (macro, the text its rules run over): each masks only what the cheap test lets through.
_MACROS = [
    ("""CREATE OR REPLACE TEMP MACRO tc_redact(x) AS
        CASE WHEN regexp_matches(CAST(x AS VARCHAR), {{maybe}})
             THEN {{masked}} ELSE CAST(x AS VARCHAR) END""", "x"),
    ("""CREATE OR REPLACE TEMP MACRO tc_redact_json(x) AS
        CASE WHEN regexp_matches(CAST(x AS VARCHAR), {{maybe}})
             THEN CAST({{masked}} AS JSON) ELSE x END""", "x"),
    # a string map (metadata): masked through its JSON form, keys and values alike
    ("""CREATE OR REPLACE TEMP MACRO tc_redact_map(m) AS
        CASE WHEN regexp_matches(CAST(to_json(m) AS VARCHAR), {{maybe}})
             THEN CAST(CAST({{masked}} AS JSON) AS MAP(VARCHAR, VARCHAR)) ELSE m END""", "to_json(m)"),
]
MACROS = [fill(sql, maybe=literal(MAYBE_SECRET), masked=_chain(arg)) for sql, arg in _MACROS]


def install(con: duckdb.DuckDBPyConnection) -> None:
    for sql in MACROS:
        con.execute(sql)


# Span columns that carry log content, and the macro that masks each kind.
CONTENT_COLUMNS = {
    "request": "tc_redact_json", "response": "tc_redact_json", "tool_arguments": "tc_redact_json",
    "error": "tc_redact", "tool_result": "tc_redact", "name": "tc_redact",
    "metadata": "tc_redact_map",
}


def wrap(con: duckdb.DuckDBPyConnection, mapped: str, params: Mapping[str, object]) -> str:
    """`mapped` (a SELECT yielding span columns) with every content column masked."""
    present = {row[0] for row in con.execute(fill("DESCRIBE {{query}}", query=mapped), params).fetchall()}
    masked = [fill("{{macro}}({{column}}) AS {{column}}", macro=macro, column=col)
              for col, macro in CONTENT_COLUMNS.items() if col in present]
    if not masked:
        return mapped
    return fill("SELECT * REPLACE ({{masked}}) FROM ({{query}})", masked=", ".join(masked), query=mapped)
