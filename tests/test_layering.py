"""The house plan holds: import-linter's contracts in pyproject.toml (layers point down, typer
only in cli/, Rich only in render/) are all kept. Run in a fresh interpreter so that the
package's own imports in this process change nothing."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"


def test_import_contracts_are_kept() -> None:
    proc = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
