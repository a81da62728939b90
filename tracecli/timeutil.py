"""Parsing the times users type: ISO dates and times, or ages like 30m, 24h, 7d."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tracecli.errors import ExitCode, TraceCliError

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(text: str, option: str, now: datetime | None = None) -> datetime:
    """A naive UTC datetime, as the store keeps them."""
    now = now or datetime.now(UTC)
    age = _AGE.match(text)
    if age:
        delta = timedelta(**{_UNITS[age.group(2).lower()]: float(age.group(1))})
        return (now - delta).astimezone(UTC).replace(tzinfo=None)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TraceCliError(
            f"{option} {text!r}: expected an ISO date/time (2025-03-04, 2025-03-04T10:15) "
            "or an age (30m, 24h, 7d)",
            ExitCode.USAGE,
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
