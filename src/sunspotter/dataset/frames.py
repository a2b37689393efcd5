"""Whole frames of the archive for scoring: an image and its true mask, by split or by instrument profile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sunspotter import paths
from sunspotter.dataset import tiles
from sunspotter.io import pspt

BASELINE_FILTER = "R"  # the contrast cut is tuned for the red continuum


@dataclass(frozen=True)
class Frame:
    """A whole image to score and its true mask (PSPT codes: 7 and 8 are sunspot)."""

    key: str
    date: str  # ISO date: the plate scale of a picture without metadata comes from it
    image: Path
    mask: Path


def frames_of(pairs: dict[str, tiles.Pair]) -> list[Frame]:
    """The first-filter image and the mask of each archive observation, in key order."""
    return [Frame(key, pair.observation.iso_date, pair.images[0], pair.mask) for key, pair in sorted(pairs.items())]


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


def read_profile(folder: Path) -> tuple[list[Frame], dict[str, list[str]]]:
    """A profile's frames (key order) and each one's observing conditions, from its
    ``frames.csv``."""
    path = folder / paths.PROFILE_MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no profile manifest; run the profiles stage (dvc repro profiles)")
    table = pd.read_csv(path, dtype=str).sort_values("observation")
    frames = [Frame(row.observation, row.date, folder / row.image, folder / row.mask) for row in table.itertuples()]
    return frames, {row.observation: row.conditions.split(";") for row in table.itertuples()}
