"""The shared output path: CSV stays exact for pipes and files, but a terminal never gets raw
control sequences from log content."""

from __future__ import annotations

import io
import sys

import pytest

from tracecli.render import output

HOSTILE = "x\x1b]52;c;ZXZpbA==\x07y\x1b[2J"


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, raw", [(FakeTTY(), False), (io.StringIO(), True)])
def test_csv_shows_controls_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                stream: io.StringIO, raw: bool) -> None:
    monkeypatch.setattr(sys, "stdout", stream)
    output.emit([{"a": HOSTILE}], [output.Column("a", "a")], output.OutputFormat.csv)
    text = stream.getvalue()
    assert (HOSTILE in text) is raw
    assert ("\x1b" in text) is raw
    if not raw:
        assert "␛]52;c;ZXZpbA==\\x07y␛[2J" in text


@pytest.mark.parametrize("usd, shown", [(0, "$0"), (2.2e-07, "$0.00000022"), (0.000127499, "$0.000127"),
                                        (0.5, "$0.5"), (1234.5, "$1,234.50")])
def test_costs_keep_three_significant_digits(usd: float, shown: str) -> None:
    assert output.format_cost(usd) == shown
