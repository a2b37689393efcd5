"""The registered localizer carries itself: its code, and requirements that cover every third-party package its
code imports (read from the source, lazy imports included), so it loads where sunspotter is not installed."""

from __future__ import annotations

import re
import sys
from importlib.metadata import packages_distributions

from sunspotter.lifecycle.pyfunc import REQUIREMENTS
from tests.code.source_imports import PACKAGE, closure, imports


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def test_requirements_cover_every_import_on_the_pyfuncs_code_path():
    start = PACKAGE / "lifecycle" / "pyfunc.py"
    imported = {name for path in closure(start) | {start} for name in imports(path)[1]}
    third_party = sorted(imported - set(sys.stdlib_module_names) - {"sunspotter"})
    distributions = packages_distributions()
    listed = {_normalised(name) for name in REQUIREMENTS}
    missing = {module: distributions.get(module, ["?"]) for module in third_party
               if not {_normalised(d) for d in distributions.get(module, [])} & listed}
    assert not missing, f"imported on the pyfunc's code path but not in pyfunc.REQUIREMENTS: {missing}"
