"""Log content is data, never markup or terminal control: make it safe to print."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls (which include CSI and OSC), and the
# bidirectional overrides that make text display in another order than it reads.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char == "\x1b":
        return "␛"
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def safe(value: object) -> str:
    """Text with escape sequences and other control characters shown, not executed."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def one_line(value: object, limit: int = 0) -> str:
    """Safe text folded onto one line, cut to `limit` characters when limit > 0."""
    text = " ".join(safe(value).split())
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text
