"""Whole-disk test overlays: a handful of test images with the true and the predicted sunspot outlines, one per
observing condition, as DVC image plots, so ``dvc plots diff`` shows where an experiment changed the answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sunspotter.dataset.frames import Frame
from sunspotter.fulldisk.overlay import write_overlay
from sunspotter.io import pspt
from sunspotter.solar.analysis import analyse
from sunspotter.solar.segmentation import Segmentation
from sunspotter.solar.solar_image import SolarImage, read_solar_image

#: How many test images are drawn: one per observing condition where the test split has it, then more clean.
OVERLAYS = 4


def chosen_frames(frames: list[Frame], conditions: dict[str, list[str]], count: int = OVERLAYS) -> list[Frame]:
    """The first test frame of each observing condition, in date order, then the next frames, ``count`` in all:
    the same frames for every experiment on the same split, so two runs' overlays line up."""
    ordered = sorted(frames, key=lambda frame: frame.key)
    chosen, seen = [], set()
    for frame in ordered:
        condition = pspt.main_condition(conditions.get(frame.key, ["unknown"]))
        if condition not in seen:
            chosen.append(frame)
            seen.add(condition)
    chosen += [frame for frame in ordered if frame not in chosen]
    return sorted(chosen[:count], key=lambda frame: frame.key)


def write_test_overlays(segment: Callable[[SolarImage], Segmentation], frames: list[Frame],
                        conditions: dict[str, list[str]], out_dir: Path) -> list[Path]:
    """Draw each chosen frame (``chosen_frames``) with its true (green) and predicted (red) outlines into
    ``out_dir/<observation>_<condition>.png``; the folder holds nothing else."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    written = []
    for frame in chosen_frames(frames, conditions):
        image = read_solar_image(frame.image, date=frame.date)
        codes, _ = pspt.read_fits(frame.mask)
        analysis = analyse(image, segment)
        condition = pspt.main_condition(conditions.get(frame.key, ["unknown"]))
        path = out_dir / f"{frame.key}_{condition}.png"
        write_overlay(path, image, analysis.mask, analysis.catalog, analysis.segmentation.dust,
                      truth=pspt.sunspot_mask(codes))
        written.append(path)
    return written
