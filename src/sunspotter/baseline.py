"""The baselines on the CNNs' own test data: the same observations, the same tile windows, the same masks.

Each test observation's red-continuum image goes through a whole-image detector (the contrast cut of
``classical.detect``, which needs the full disk for its limb-darkening profile, or STARA); its answer is
then scored only inside the tiles the localizer is scored on, so the Dice figures count exactly the same pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from sunspotter import classical, pspt, tiles
from sunspotter.evaluation import PixelOverlap

BASELINE_FILTER = "R"  # the contrast cut is tuned for the red continuum


def split_pairs(raw_dir: Path, tiles_dir: Path, split: str = "test",
                channel: str = BASELINE_FILTER) -> dict[str, tiles.Pair]:
    """The ``channel`` image and mask of every observation in ``split``, by observation key."""
    index = tiles.read_index(tiles_dir)
    wanted = set(index.loc[index["split"] == split, "observation"])
    found = {pair.observation.key: pair for pair in tiles.find_pairs(raw_dir, [channel])
             if pair.observation.key in wanted}
    missing = sorted(wanted - set(found))
    if missing:
        raise pspt.PSPTFileError(f"{raw_dir}: no {channel} image for {split} observation(s) {', '.join(missing)}")
    return found


def conditions_of(pairs: dict[str, tiles.Pair]) -> dict[str, list[str]]:
    """Observing conditions of each observation, from its image header (synthetic frames record them)."""
    return {key: pspt.frame_conditions(pspt.read_header(pair.images[0])) for key, pair in pairs.items()}


def evaluate_baseline(raw_dir: Path, tiles_dir: Path, contrast_cut: float, *, progress: bool = True,
                      split: str = "test") -> tuple[dict[str, PixelOverlap], dict[str, list[str]]]:
    """Per observation of ``split``: the classical detector's overlap with the true sunspot mask inside the
    split's tiles, and the frame's observing conditions (read from the same header)."""
    return score_detector(lambda path: classical.detect(*pspt.read_fits(path), contrast_cut), raw_dir, tiles_dir,
                          name="classical baseline", progress=progress, split=split)


def score_detector(detect: Callable[[Path], np.ndarray], raw_dir: Path, tiles_dir: Path, *, name: str,
                   progress: bool = True, split: str = "test") -> tuple[dict[str, PixelOverlap], dict[str, list[str]]]:
    """Per observation of ``split``: the overlap of ``detect``'s mask of its whole red-continuum image (given
    the image's path) with the true sunspot mask inside the split's tiles, and the frame's observing conditions."""
    from tqdm import tqdm

    index = tiles.read_index(tiles_dir)
    size = tiles.read_meta(tiles_dir)["tile_size"]
    rows_of = {key: rows for key, rows in index[index["split"] == split].groupby("observation")}
    overlaps, conditions = {}, {}
    for key, pair in tqdm(sorted(split_pairs(raw_dir, tiles_dir, split).items()), desc=name,
                          unit="obs", disable=not progress):
        guess = detect(pair.images[0])
        codes, _ = pspt.read_fits(pair.mask)
        truth = pspt.sunspot_mask(codes)
        overlap = PixelOverlap()
        for row, col in zip(rows_of[key]["row"], rows_of[key]["col"]):
            window = (slice(row, row + size), slice(col, col + size))
            overlap.add(truth[window], guess[window])
        overlaps[key] = overlap
        conditions[key] = pspt.frame_conditions(pspt.read_header(pair.images[0]))
    return overlaps, conditions
