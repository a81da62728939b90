"""Start-up layering: `tracecli --help` must not pay for the engine, Arrow or the price table.

Checked in a fresh interpreter (imports are process-wide), never by timing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("duckdb", "pyarrow", "genai_prices", "textual")

PROBE = """
import json, sys
from tracecli.cli.main import run
sys.argv = ["tracecli", *sys.argv[1:]]
try:
    run()
except SystemExit:
    pass
sys.stderr.write("\\n" + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)) + "\\n")
"""


@pytest.mark.parametrize("args", [["--help"], ["ingest", "--help"], ["show", "--help"],
                                  ["cost", "--help"], ["browse", "--help"], ["--version"]])
def test_help_imports_no_heavy_module(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                          capture_output=True, text=True, timeout=60, check=False)
    loaded = json.loads(proc.stderr.strip().splitlines()[-1])
    assert loaded == [], f"`tracecli {' '.join(args)}` imported {loaded}"
