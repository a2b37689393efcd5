"""Overlap of a predicted sunspot mask with the true one: pixel counts, Dice and IoU, per observation and pooled."""

from __future__ import annotations

import numpy as np

from sunspotter.io import pspt


class PixelOverlap:
    """Sunspot-pixel Dice and IoU accumulated over many tiles (pooled, so empty tiles do not skew it)."""

    def __init__(self):
        self.overlap = self.truth = self.guess = 0

    def add(self, truth: np.ndarray, guess: np.ndarray) -> None:
        truth, guess = truth.astype(bool), guess.astype(bool)
        self.overlap += int(np.count_nonzero(truth & guess))
        self.truth += int(np.count_nonzero(truth))
        self.guess += int(np.count_nonzero(guess))

    @classmethod
    def pooled(cls, parts) -> "PixelOverlap":
        total = cls()
        for part in parts:
            total.overlap += part.overlap
            total.truth += part.truth
            total.guess += part.guess
        return total

    def dice(self) -> float:
        # No spot anywhere and none predicted is a perfect answer.
        return 2 * self.overlap / (self.truth + self.guess) if self.truth + self.guess else 1.0

    def metrics(self) -> dict:
        union = self.truth + self.guess - self.overlap
        iou = self.overlap / union if union else 1.0
        return {"test_dice": float(self.dice()), "test_iou": float(iou), "test_sunspot_pixels": self.truth}


def dice_by_condition(per_observation: dict[str, PixelOverlap], conditions: dict[str, list[str]]) -> dict:
    """Pooled Dice of the frames with each observing condition, and of all hard frames together.

    ``conditions`` maps an observation to its conditions (see ``pspt.frame_conditions``).
    """
    groups: dict[str, list[PixelOverlap]] = {}
    for observation, overlap in per_observation.items():
        kinds = conditions.get(observation, ["unknown"])
        for kind in kinds + (["hard"] if set(kinds) & set(pspt.HARD_CONDITIONS) else []):
            groups.setdefault(kind, []).append(overlap)
    return {f"test_dice_{kind}": PixelOverlap.pooled(parts).dice() for kind, parts in sorted(groups.items())} | {
        f"test_frames_{kind}": len(parts) for kind, parts in sorted(groups.items())}
