"""Log content is data, never markup or terminal control: make it safe to print. The one place
for the rules: human views show these characters as escapes, JSON on a terminal as JSON escapes."""

from __future__ import annotations

import re

# What a terminal acts on, or what makes text display otherwise than it reads: C0 controls
# except tab and newline, DEL, C1 controls (CSI, OSC, ST, NEL among them), the Arabic letter
# mark, zero-width spaces, joiners and direction marks, the line and paragraph separators, the
# bidirectional embeddings, overrides and isolates, the word joiner and invisible operators, and
# the byte-order mark.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                      r"\u2060-\u2064\u2066-\u2069\ufeff]")


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == "\x1b":
        return "␛"
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def safe(value: object) -> str:
    """Text with escape sequences and other control characters shown, not executed."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def one_line(value: object, limit: int = 0) -> str:
    """Safe text folded onto one line (a field that is one line must not forge another), cut to
    `limit` characters when limit > 0."""
    text = " ".join(safe(value).split())
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def terminal_json(text: str) -> str:
    """JSON text for a terminal: what `safe` would show is written as a JSON escape instead,
    so the document parses to the same values. Those characters only occur inside strings
    (JSON writes C0 controls escaped already; tab and newline are left alone)."""
    return _CONTROL.sub(_json_escape, text)


# What Markdown (CommonMark, GitHub's tables, math and strikethrough) or the HTML in it would
# act on within a line: each is written backslash-escaped, which CommonMark allows for any ASCII
# punctuation, so that the text renders as written. An underscore between two letters or digits
# never delimits emphasis, and stays as it is (trc_7f3a, first_int).
_MARKDOWN = re.compile(r"[\\`*\[\]<>|~&$]|(?<![^\W_])_|_(?![^\W_])")


def markdown(value: object, limit: int = 0) -> str:
    """Text for a Markdown line (a table cell, a list item): folded onto one line and cut as
    `one_line` does, with what Markdown would act on escaped, so that log content shows as the
    text it is, never as links, images, HTML, emphasis or a broken table."""
    return _MARKDOWN.sub(r"\\\g<0>", one_line(value, limit))


def markdown_code(value: object, limit: int = 0) -> str:
    """Text as a Markdown code span, on one line: its fence is one backtick longer than the
    longest run of backticks in it, and padded where it starts or ends with one; "(empty)"
    for no text (a code span cannot be empty). For list items: a table would still split it
    on a pipe."""
    text = one_line(value, limit)
    if not text:
        return "(empty)"
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
