"""The linter of the whole tree (ruff, configured in pyproject.toml): sorted imports and the errors that are bugs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

RUFF = Path(sys.executable).parent / "ruff"


def test_ruff_passes_on_the_whole_tree():
    result = subprocess.run([str(RUFF), "check", "--no-cache", "--output-format", "concise", "."], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"ruff check found problems (fix with `ruff check --fix .`):\n{result.stdout}"
