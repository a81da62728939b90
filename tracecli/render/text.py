"""Log content is data, never markup or terminal control: make it safe to print."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and C1 controls (which include CSI and OSC).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    return "␛" if char == "\x1b" else f"\\x{ord(char):02x}"


def safe(value: object) -> str:
    """Text with escape sequences and other control characters shown, not executed."""
    return _CONTROL.sub(_visible, "" if value is None else str(value))


def one_line(value: object, limit: int = 0) -> str:
    """Safe text folded onto one line, cut to `limit` characters when limit > 0."""
    text = " ".join(safe(value).split())
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text
