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
