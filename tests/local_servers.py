"""Helpers for tests that start a server on 127.0.0.1: a free port, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, timeout_s: float = 180, log: Path | None = None) -> None:
    """Poll ``url`` until it answers; fail with the server's log if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
                raise AssertionError(f"the server behind {url} did not start\n{tail}")
            time.sleep(0.5)
