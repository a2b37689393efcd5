"""The project's own import graph, read from the source (no imports run): which files of ``src/sunspotter`` a
module or a stage script needs. Shared by the layers contract and the stage-deps test."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "src" / "sunspotter"


def module_file(dotted: str) -> Path | None:
    """``sunspotter.a.b`` -> its file (``a/b.py`` or ``a/b/__init__.py``); None if it is not a module."""
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def dotted_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports(path: Path) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """The project files ``path`` imports (anywhere in it, function bodies included) and the top-level names of
    the other packages it imports."""
    own, others = [], []
    package = dotted_name(path) if path.is_relative_to(PACKAGE) else ""
    if path.name == "__init__.py":
        package += ".__init__"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from . import x
                module = ".".join(package.split(".")[:-node.level] + ([module] if module else []))
            # "from a import b" imports a.b when b is a module, else a name of a
            names = [f"{module}.{alias.name}" if module_file(f"{module}.{alias.name}") else module for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] != "sunspotter":
                others.append(name.split(".")[0])
                continue
            parts = name.split(".")
            # importing a.b.c runs the __init__ of a and a.b too
            for depth in range(2, len(parts) + 1):
                found = module_file(".".join(parts[:depth]))
                if found:
                    own.append(found)
    return tuple(dict.fromkeys(own)), tuple(dict.fromkeys(others))


def closure(start: Path, stop_at: frozenset[Path] = frozenset()) -> set[Path]:
    """Every project file ``start`` needs, following imports transitively, except through ``stop_at``."""
    seen: set[Path] = set()
    todo = [start]
    while todo:
        for found in imports(todo.pop())[0]:
            if found not in seen and found not in stop_at:
                seen.add(found)
                todo.append(found)
    return seen
