"""The observing conditions a test frame's figures are grouped under (Dice, regions, counts)."""

from __future__ import annotations

from sunspotter.io import pspt


def scored_under(conditions: list[str]) -> list[str]:
    """Each of a frame's own conditions (``pspt.frame_conditions``: a frame may be dusty and cloudy), and
    "hard" once when it has any of ``pspt.HARD_CONDITIONS``, so the hard frames are also pooled together."""
    return [*conditions, *(["hard"] if set(conditions) & set(pspt.HARD_CONDITIONS) else [])]
