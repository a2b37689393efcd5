"""Each stage's ``deps`` in dvc.yaml cover the project source its script imports, and list nothing else, so
``dvc repro`` reruns a stage exactly when code it runs changed (editing the catalog does not retrain).

Plumbing is left out on purpose: how params are read (``config.py``: the values a stage reads are its
``params``), where files live (``paths.py``), how a stage reports errors and logs runs (``lifecycle/stage.py``,
``lifecycle/tracking.py``). Changing those must not regenerate the data; imports are not followed through them.
Package ``__init__`` files that hold only a docstring carry no code and need no entry.
"""

from __future__ import annotations

import ast
import shlex

import pytest
import yaml

from tests.code.source_imports import PACKAGE, closure
from tests.conftest import REPO

PLUMBING = frozenset(PACKAGE / name for name in ("config.py", "paths.py", "lifecycle/stage.py", "lifecycle/tracking.py"))


def has_code(path) -> bool:
    body = ast.parse(path.read_text()).body
    return not (path.name == "__init__.py" and all(isinstance(node, ast.Expr) for node in body))


def stages() -> dict[str, dict]:
    """dvc.yaml's stages, a ``foreach`` stage once (its deps are the same for every item)."""
    found = {}
    for name, stage in yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"].items():
        found[name] = stage.get("do", stage)
    return found


def needed_source(cmd: str) -> set:
    scripts = [REPO / word for word in shlex.split(cmd) if word.startswith("pipelines/") and word.endswith(".py")]
    assert scripts, f"{cmd!r} runs no pipelines/ script"
    return set(scripts) | {path for script in scripts for path in closure(script, PLUMBING) if has_code(path)}


def covered(path, entries) -> bool:
    return any(path == entry or entry in path.parents for entry in entries)


def suggested(needed: set) -> list[str]:
    """The deps lines a stage should list: a folder when all of its code is needed, else the files."""
    lines = set()
    for path in needed:
        folder = path.parent
        code = {p for p in folder.glob("*.py") if has_code(p)}
        lines.add(folder if folder != PACKAGE and code <= needed and len(code) > 1 else path)
    return sorted(str(line.relative_to(REPO)) for line in lines)


@pytest.mark.parametrize("name", list(stages()))
def test_deps_cover_the_source_a_stage_runs(name):
    stage = stages()[name]
    deps = [REPO / str(dep).split()[0] for dep in stage.get("deps", [])]
    listed = [dep for dep in deps if dep.is_relative_to(REPO / "pipelines") or dep.is_relative_to(PACKAGE)]
    needed = needed_source(stage["cmd"])
    missing = sorted(str(path.relative_to(REPO)) for path in needed if not covered(path, listed))
    plumbing = sorted(str(dep.relative_to(REPO)) for dep in listed if dep in PLUMBING)
    stale = sorted(str(dep.relative_to(REPO)) for dep in listed
                   if dep not in PLUMBING and not any(path == dep or dep in path.parents for path in needed))
    hint = "\n  its source deps should be:\n" + "\n".join(f"      - {line}" for line in suggested(needed))
    assert not missing, f"dvc.yaml stage {name}: deps miss source its script imports: {', '.join(missing)}{hint}"
    assert not plumbing, f"dvc.yaml stage {name}: plumbing listed as deps (see {__file__}): {', '.join(plumbing)}"
    assert not stale, f"dvc.yaml stage {name}: deps list source its script does not import: {', '.join(stale)}{hint}"


def _scripts(command: str) -> set[str]:
    return {word for word in shlex.split(command) if word.startswith("pipelines/") and word.endswith(".py")}


def test_every_stage_script_is_an_mlflow_entry_point():
    """The README promises `mlflow run -e <stage>` for every stage: MLproject runs the scripts dvc.yaml runs."""
    entries = yaml.safe_load((REPO / "MLproject").read_text())["entry_points"].values()
    in_mlproject = set().union(*(_scripts(entry["command"]) for entry in entries))
    in_dvc = set().union(*(_scripts(stage["cmd"]) for stage in stages().values()))
    assert in_dvc <= in_mlproject, f"MLproject lacks entry points for {sorted(in_dvc - in_mlproject)}"
