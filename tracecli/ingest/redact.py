"""Secrets are masked at ingest, before anything reaches the store, and in every error message.

One table of rules serves both DuckDB (RE2, as SQL macros over each input column while it is
read) and Python (`redact_text`, for messages). A masked value keeps a few characters at each
end so that two keys can still be told apart: `sk-proj-…REDACTED…x4Qz`. Every rule is
idempotent — a masked value is never masked again — so exports re-ingest unchanged.
"""

from __future__ import annotations

import functools
import re

import duckdb

from tracecli.sql.template import fill, ident, literal

MASK = "…REDACTED…"
SHORT_MASK = "[REDACTED]"


def _any_case(pattern: str) -> str:
    """`pattern` with each letter as both cases (`[aA]`): RE2's `(?i)` folds some non-ASCII
    letters (the Kelvin sign) that Python's does not, and the two must read every rule alike."""
    return re.sub(r"[a-z]", lambda m: f"[{m[0]}{m[0].upper()}]", pattern)


# Words that make a field name a credential's when the name ENDS in one, any case: `x-api-key`,
# `OPENAI_API_KEY`, `client_secret`, `aws_secret_access_key`, `db_password`, `set-cookie`. Ending
# in the word, not just containing it, keeps `user_api_key_alias` or `password_policy` readable.
_WORDS = _any_case(r"api[-_]?key|secret|secret[-_]?key|access[-_]?key|private[-_]?key"
                   r"|passw(?:or)?d|passphrase|cookie|credentials?|virtual[-_]?key")
_AUTHORIZATION, _TOKEN, _BEARER = (_any_case(w) for w in ("authorization", "token", "bearer"))
_SCHEMES = _any_case("(?:basic|bearer|digest|token|apikey|key|negotiate|ntlm|oauth)")
# A JSON key (or HAR header name) naming a credential. `token` counts with something before it
# (`access_token`, `x-auth-token`): a bare `"token"` is a logprobs entry, and `tokens`,
# `token_count`, `tokenizer`, `max_tokens` do not end in `token`.
_KEY = rf"[A-Za-z0-9_.\-]*(?:{_AUTHORIZATION}|{_WORDS})|[A-Za-z0-9_.\-]+{_TOKEN}"
_WS = r"[ \t\r\n]"  # spelled out: RE2's \s and Python's differ
_SP = r"[ \t]"


def _field(q: str) -> str:
    """A credential field up to its value's opening quote: `"api_key": "` or a HAR pair
    `"name": "Authorization", "value": "` (also `key`/`value`), its quotes written `q`."""
    name, value = _any_case("(?:name|key)"), _any_case("value")
    return (rf"{q}(?:{name}{q}{_WS}*:{_WS}*{q})?(?:{_KEY}){q}{_WS}*"
            rf"(?:,{_WS}*{q}{value}{q}{_WS}*)?:{_WS}*{q}")


_F0 = _field('"')  # a field of the JSON text itself
_FN = _field(r'\\+"')  # of JSON in a JSON string, escaped once or more (tool call arguments)
_P = r'[^"\\…]'  # a field value character that is not an escape, a quote, or a mask already
_FIELD_BEARER = rf"(?:{_BEARER}{_WS}+)?"  # kept before a field's long value, as in free text
# Free text (`password=…`, `token: …`, `'x-api-key': '…'`, env dumps, query strings) and the
# header syntax `Authorization: Basic …`. A value `_V` stops at JSON punctuation, so that it
# never runs past the end of the JSON string it is in.
_FREE = (rf"(?:(?:{_WORDS}|{_TOKEN})'?{_SP}*[:=]"
         rf"|{_AUTHORIZATION}'?{_SP}*[:=]{_SP}*(?:\\*[\"'])?{_SCHEMES}{_SP})"
         rf"{_SP}*(?:\\*[\"'])?")
_V = r"[^ \t\r\n\f\v\"'\\&,;:{}\[\]…]"
_V_END = r"([ \t\r\n\f\v\"'\\&,;:{}\[\]]|$)"  # what ends a free-text value (a mask does not)
_K = r"[A-Za-z0-9_\-]"  # sk- key characters
_B = r"[A-Za-z0-9._~+/=\-]"  # bearer token characters

# (pattern, replacement), applied in order. Each pattern is alternatives that share one
# replacement (a group its alternative did not match is empty), so that a text is scanned three
# times, not once per rule. RE2 and Python `re` read them alike: no lookaround, no backreferences.
RULES: list[tuple[str, str]] = [
    # key-shaped values first, so that they keep their own ends wherever they are:
    # sk-… / sk-proj-… / sk-ant-… keys (20+ characters after `sk-`), AWS access key ids
    (rf"\b(sk-{_K}{{5}}){_K}{{11,}}({_K}{{4}})|\b(A[KS]IA)[A-Z0-9]{{12}}([A-Z0-9]{{4}})\b",
     rf"\1\3{MASK}\2\4"),
    # long values keep 4 characters at each end: Bearer tokens, credential fields (values
    # without escapes) at any escape level, free-text credentials; 16+ characters each
    (rf"(\b{_BEARER}{_WS}+{_B}{{4}}){_B}{{8,}}({_B}{{4}})"
     rf"|({_F0}{_FIELD_BEARER}{_P}{{4}}){_P}{{8,}}({_P}{{4}}\")"
     rf"|({_FN}{_FIELD_BEARER}{_P}{{4}}){_P}{{8,}}({_P}{{4}}\\+\")"
     rf"|({_FREE}{_V}{{4}}){_V}{{8,}}({_V}{{4}})",
     rf"\1\3\5\7{MASK}\2\4\6\8"),
    # the rest is masked whole: short or escaped field values (up to the quote that ends them),
    # short free-text values, short sk- keys and Bearer tokens that hold a digit (so that
    # `sk-learn` and "the bearer of bad news" stay)
    (rf'({_F0})(?:[^"\\…]|\\[^…])+(")'
     rf'|({_FN})(?:[^"\\…]|\\+[^"\\…])+(\\+")'
     rf"|({_FREE}){_V}{{1,15}}{_V_END}"
     rf"|(\bsk-|\b{_BEARER}{_WS}+){_B}*[0-9]{_B}*([^A-Za-z0-9._~+/=\-…]|$)",
     rf"\1\3\5\7{SHORT_MASK}\2\4\6\8"),
]

# Cheap test that a text may hold a secret: a superset of every rule above. `token` only where
# a rule reads it, so that the `total_tokens` of every response does not send it through them.
# Only text that passes it pays for the replacements.
MAYBE_SECRET = (rf"{_AUTHORIZATION}|{_BEARER}|{_WORDS}|{_TOKEN}(?:\\*\"|'?{_SP}*[:=])"
                r"|sk-|A[KS]IA")


@functools.cache
def _compiled() -> tuple[re.Pattern[str], list[tuple[re.Pattern[str], str]]]:
    """The rules in Python (ASCII \\b, as RE2 reads it): compiled when a message needs them,
    not by every command that imports this module (they take some 80 ms)."""
    return re.compile(MAYBE_SECRET, re.ASCII), [(re.compile(p, re.ASCII), r) for p, r in RULES]


def redact_text(text: str) -> str:
    """The same masking as ingest applies, for text shown to the user (error messages)."""
    maybe, rules = _compiled()
    if not maybe.search(text):
        return text
    for pattern, replacement in rules:
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
    """The masking macros `wrap` calls, on the connection that ingests."""
    for sql in MACROS:
        con.execute(sql)


# Span columns that carry log content, and the macro that masks each kind.
CONTENT_COLUMNS = {
    "request": "tc_redact_json", "response": "tc_redact_json", "tool_arguments": "tc_redact_json",
    "error": "tc_redact", "tool_result": "tc_redact", "name": "tc_redact",
    "metadata": "tc_redact_map",
}


def wrap(con: duckdb.DuckDBPyConnection, mapped: str, table: str) -> str:
    """`mapped` (a SELECT yielding rows of `table`) with every content column masked. The
    columns are picked by name as the statement binds (COLUMNS), not found by describing the
    mapping first: binding a mapping of OpenTelemetry spans takes some 0.4 s. Each macro's
    columns that `table` has must include one every mapping into it yields (spans: request,
    name, metadata; feedback: metadata; span_content: request)."""
    stored = {row[0] for row in con.execute(fill("DESCRIBE {{table}}", table=ident(table))).fetchall()}
    groups: dict[str, list[str]] = {}
    for column, macro in CONTENT_COLUMNS.items():
        if column in stored:
            groups.setdefault(macro, []).append(column)
    if not groups:
        return mapped
    masked = [fill("{{macro}}(COLUMNS({{names}})) AS '\\1'", macro=macro,
                   names=literal("^(" + "|".join(columns) + ")$")) for macro, columns in groups.items()]
    kept = fill("COLUMNS(lambda c: c NOT IN ({{names}}))",
                names=", ".join(literal(c) for columns in groups.values() for c in columns))
    return fill("SELECT {{kept}}, {{masked}} FROM ({{query}})", kept=kept, masked=", ".join(masked),
                query=mapped)
