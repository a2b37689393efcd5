"""The machine a benchmark ran on, in words, to print beside its absolute times."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name, its core count and whether it has AVX-512 (which moves Keras' figures)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
        names = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")]
        return f"{names[0]}, {len(names)} cores{', AVX-512' if 'avx512f' in info else ''}"
    except (OSError, IndexError):
        return platform.processor() or platform.machine()
