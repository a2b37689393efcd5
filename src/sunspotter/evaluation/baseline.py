"""The baselines on the CNNs' own test data: the same observations, the same tile windows, the same masks.

Each test observation's red-continuum image goes through a whole-image detector (the contrast cut of
``classical.detect``, which needs the full disk for its limb-darkening profile, or STARA); its answer is
then scored only inside the tiles the localizer is scored on, so the Dice figures count exactly the same pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sunspotter.dataset import tiles
from sunspotter.dataset.frames import split_pairs
from sunspotter.evaluation.frame_pool import each_frame
from sunspotter.evaluation.full_disk import as_segmentation, image_metrics, image_table, region_metrics, score_image
from sunspotter.evaluation.overlap import PixelOverlap, dice_by_condition
from sunspotter.io import pspt
from sunspotter.solar import catalog, classical
from sunspotter.solar.analysis import Analysis
from sunspotter.solar.solar_image import SolarImage, read_solar_image


@dataclass
class DetectorScores:
    """A whole-image detector on one split: per observation, its overlap with the true mask inside the split's
    tiles and the frame's observing conditions; with ``whole_images``, a row per image and per region (``full_disk_eval``)."""

    overlaps: dict[str, PixelOverlap]
    conditions: dict[str, list[str]]
    images: pd.DataFrame | None = None
    regions: pd.DataFrame | None = None  # full_disk_eval.region_hits of every image, with its observation

    def metrics(self) -> dict:
        """Pooled tile Dice and IoU, Dice per observing condition, and the whole-image and region figures
        when scored."""
        metrics = PixelOverlap.pooled(self.overlaps.values()).metrics() | dice_by_condition(self.overlaps,
                                                                                            self.conditions)
        if self.images is None:
            return metrics
        return metrics | image_metrics(self.images, self.conditions) | region_metrics(self.regions, self.conditions)


def evaluate_baseline(raw_dir: Path, tiles_dir: Path, contrast_cut: float, *, progress: bool = True,
                      split: str = "test", whole_images: bool = False) -> DetectorScores:
    """The classical detector (``classical.detect``) scored on ``split`` by ``score_detector``."""
    return score_detector(lambda image: classical.detect(image.data, image.disk, contrast_cut),
                          raw_dir, tiles_dir, name="classical baseline", progress=progress, split=split,
                          whole_images=whole_images)


def score_detector(detect: Callable[[SolarImage], np.ndarray], raw_dir: Path, tiles_dir: Path, *, name: str,
                   progress: bool = True, split: str = "test", whole_images: bool = False) -> DetectorScores:
    """``detect``'s mask of each whole red-continuum image of ``split``, scored inside the split's tiles and,
    with ``whole_images``, over the whole image and region by region as the full-disk localizer is
    (``evaluation.full_disk.score_image``)."""
    return score_detectors(lambda image: [detect(image)], 1, raw_dir, tiles_dir, name=name, progress=progress,
                           split=split, whole_images=whole_images)[0]


def score_detectors(detect_each: Callable[[SolarImage], list[np.ndarray]], count: int, raw_dir: Path,
                    tiles_dir: Path, *, name: str, progress: bool = True, split: str = "test",
                    whole_images: bool = False) -> list[DetectorScores]:
    """``score_detector`` for ``count`` masks of each image that ``detect_each`` gives together (one detector
    at several settings, when one pass gives them all); each frame and its true mask are read once."""
    index = tiles.read_index(tiles_dir)
    size = tiles.read_meta(tiles_dir).tile_size
    rows_of = {key: rows for key, rows in index[index["split"] == split].groupby("observation")}

    def score_frame(item) -> tuple:
        key, pair = item
        image = read_solar_image(pair.images[0])
        codes, _ = pspt.read_fits(pair.mask)
        truth = pspt.sunspot_mask(codes)
        conditions = pspt.frame_conditions(pspt.read_header(pair.images[0]))
        guesses = detect_each(image)
        if len(guesses) != count:
            raise ValueError(f"{name}: {len(guesses)} masks of {pair.images[0]}, where {count} were promised")
        true_listing = catalog.listed_regions(image, truth) if whole_images else None  # once for every mask
        scored = []
        for guess in guesses:
            overlap = PixelOverlap()
            for row, col in zip(rows_of[key]["row"], rows_of[key]["col"]):
                window = (slice(row, row + size), slice(col, col + size))
                overlap.add(truth[window], guess[window])
            whole = (score_image(key, pair.observation.iso_date, truth, Analysis.of(image, as_segmentation(guess)),
                                 true_listing) if whole_images else None)
            scored.append((overlap, whole))
        return key, conditions, scored

    per_frame = each_frame(score_frame, sorted(split_pairs(raw_dir, tiles_dir, split).items()), desc=name,
                           unit="obs", progress=progress)
    conditions = {key: frame_conditions for key, frame_conditions, _ in per_frame}
    return [_scores({key: scored[which] for key, _, scored in per_frame}, conditions, whole_images)
            for which in range(count)]


def _scores(scored: dict[str, tuple], conditions: dict[str, list[str]], whole_images: bool) -> DetectorScores:
    """One mask's ``DetectorScores`` from its (overlap, whole-image figures) per observation."""
    overlaps = {key: overlap for key, (overlap, _) in scored.items()}
    if not whole_images:
        return DetectorScores(overlaps, conditions)
    images = image_table([image_row for _, (image_row, _) in scored.values()])
    return DetectorScores(overlaps, conditions, images,
                          pd.concat([hits for _, (_, hits) in scored.values()], ignore_index=True))
