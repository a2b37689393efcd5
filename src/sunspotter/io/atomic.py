"""Atomic writes: the one way this project puts a file or a folder on disk.

Every writer fills a temporary path beside the target and the finished result is renamed onto it, so a
killed process leaves either the old output or the new one, never half of one, and DVC never hashes a torn
file. The temporary path keeps the target's name inside a hidden workspace folder, so writers that choose a
format by suffix (Keras, matplotlib, MLflow) work unchanged, and PSPT listings skip it (hidden names).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: str | Path, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; on leaving without an error, rename it onto
    ``path``. The temporary path does not exist yet: write a file there, or (``folder=True``) create a folder.

    An old folder is moved aside before the new one takes its place and deleted only afterwards: if the
    second rename fails the old folder is put back, and a process killed between the two renames leaves it
    in the hidden workspace, not lost. A writer that made nothing at the temporary path is an error, and the
    old content stays.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workspace = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    temporary = workspace / path.name
    try:
        yield temporary
        if not os.path.lexists(temporary):
            raise FileNotFoundError(f"{path}: the writer made nothing to put in its place; the old content is kept")
        previous = workspace / "previous"
        if folder and path.exists():
            os.replace(path, previous)
        try:
            os.replace(temporary, path)
        except BaseException:
            if os.path.lexists(previous):
                os.replace(previous, path)
            raise
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def write_bytes(path: str | Path, payload: bytes) -> None:
    with replacing(path) as temporary:
        temporary.write_bytes(payload)


def json_bytes(document: dict) -> bytes:
    """The project's one JSON format: keys sorted and two-space indents, so unchanged content hashes the same
    (DVC) and diffs line by line (git, ``dvc metrics diff``)."""
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def write_json(path: str | Path, document: dict) -> None:
    write_bytes(path, json_bytes(document))
