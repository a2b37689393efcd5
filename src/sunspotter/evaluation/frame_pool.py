"""Whole frames scored side by side, one per core.

Scoring a frame is mostly C code that lets go of Python's lock while it runs: STARA's top-hat (scipy.ndimage),
the network's forward pass (TensorFlow), the catalog's labelling and distances. Threads share the loaded model
and the dust map, and each frame is scored by itself, so the answers are those of a plain loop, in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
#: Frames in flight at most, whatever the cores: each 4096 x 4096 frame being scored holds up to about 1 GB
#: (scoring four 0.5-arcsec profile frames peaked at 2.9 GB on one thread, 3.1 on two, 5.0 on four).
MAX_WORKERS = 4


def each_frame(score: Callable[[Item], Result], frames: Iterable[Item], *, desc: str, unit: str = "image",
               progress: bool = True, workers: int = 0) -> list[Result]:
    """``[score(frame) for frame in frames]`` on ``workers`` threads (0: one per core, at most ``MAX_WORKERS``),
    with a progress bar."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    frames = list(frames)
    workers = max(1, min(workers or min(os.cpu_count() or 1, MAX_WORKERS), len(frames)))
    with ThreadPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(score, frames), total=len(frames), desc=desc, unit=unit, disable=not progress))
