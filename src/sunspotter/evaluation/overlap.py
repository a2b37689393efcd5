"""Overlap of a predicted sunspot mask with the true one: pixel counts, Dice and IoU, per observation and pooled."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sunspotter.evaluation.conditions import scored_under


@dataclass
class PixelOverlap:
    """Sunspot pixels of a true and a predicted mask: how many each has and how many they share. The one place
    Dice and IoU are computed; add overlaps together to pool them (so empty tiles do not skew the figure)."""

    overlap: int = 0
    truth: int = 0
    guess: int = 0

    @classmethod
    def of(cls, truth: np.ndarray, guess: np.ndarray) -> "PixelOverlap":
        truth, guess = truth.astype(bool), guess.astype(bool)
        return cls(int(np.count_nonzero(truth & guess)), int(np.count_nonzero(truth)), int(np.count_nonzero(guess)))

    def __add__(self, other: "PixelOverlap") -> "PixelOverlap":
        return PixelOverlap(self.overlap + other.overlap, self.truth + other.truth, self.guess + other.guess)

    def add(self, truth: np.ndarray, guess: np.ndarray) -> None:
        """Pool in one more pair of masks (a tile of the same observation)."""
        pooled = self + PixelOverlap.of(truth, guess)
        self.overlap, self.truth, self.guess = pooled.overlap, pooled.truth, pooled.guess

    @classmethod
    def pooled(cls, parts) -> "PixelOverlap":
        return sum(parts, cls())

    def dice(self) -> float:
        # No spot anywhere and none predicted is a perfect answer.
        return 2 * self.overlap / (self.truth + self.guess) if self.truth + self.guess else 1.0

    def iou(self) -> float:
        union = self.truth + self.guess - self.overlap
        return self.overlap / union if union else 1.0

    def metrics(self) -> dict:
        return {"test_dice": float(self.dice()), "test_iou": float(self.iou()), "test_sunspot_pixels": self.truth}


def dice_by_condition(per_observation: dict[str, PixelOverlap], conditions: dict[str, list[str]]) -> dict:
    """Pooled Dice of the frames with each observing condition, and of all hard frames together.

    ``conditions`` maps an observation to its conditions (see ``pspt.frame_conditions``).
    """
    groups: dict[str, list[PixelOverlap]] = {}
    for observation, overlap in per_observation.items():
        for kind in scored_under(conditions.get(observation, ["unknown"])):
            groups.setdefault(kind, []).append(overlap)
    return {f"test_dice_{kind}": PixelOverlap.pooled(parts).dice() for kind, parts in sorted(groups.items())} | {
        f"test_frames_{kind}": len(parts) for kind, parts in sorted(groups.items())}
