"""The classical detector: remove limb darkening, then call everything darker than a contrast cut sunspot.

It is the yardstick the CNNs must beat, and the check that the synthetic hard cases are really
hard: it does well on clean frames and badly on dust, cloud and bad seeing.
"""

from __future__ import annotations

import numpy as np

from sunspotter import pspt

#: A pixel darker than this fraction of the quiet Sun at its mu is a sunspot (penumbra is 0.75-0.85).
CONTRAST_CUT = 0.88
MU_BINS = 60


def disk_geometry(shape: tuple[int, int], header) -> np.ndarray:
    """mu (cos of the heliocentric angle) per pixel from the header's disk centre and radius; 0 off the disk."""
    cx, cy, radius = (float(header[k]) for k in ("CENTER_X", "CENTER_Y", pspt.RADIUS_KEY))
    y, x = np.ogrid[: shape[0], : shape[1]]
    r2 = ((x - cx) ** 2 + (y - cy) ** 2) / radius**2
    return np.sqrt(np.clip(1.0 - r2, 0.0, None)).astype(np.float32)


def flatten(image: np.ndarray, header) -> tuple[np.ndarray, np.ndarray]:
    """Image divided by its own centre-to-limb profile (median per mu bin, sky subtracted); and mu."""
    mu = disk_geometry(image.shape, header)
    on_disk = mu > 0
    data = image.astype(np.float32)
    sky = float(np.median(data[~on_disk])) if (~on_disk).any() else 0.0
    data -= sky
    bins = np.minimum((mu * MU_BINS).astype(int), MU_BINS - 1)
    profile = np.ones(MU_BINS, np.float32)
    for b in range(MU_BINS):
        values = data[on_disk & (bins == b)]
        if values.size:
            profile[b] = max(float(np.median(values)), 1e-6)
    flat = np.where(on_disk, data / profile[bins], 0.0).astype(np.float32)
    return flat, mu


def detect(image: np.ndarray, header, contrast_cut: float = CONTRAST_CUT) -> np.ndarray:
    """Binary sunspot mask (uint8) by a contrast threshold after limb-darkening removal."""
    flat, mu = flatten(image, header)
    # The archive's masks never mark spots at mu < 0.15, so neither does the detector.
    return ((mu >= pspt.LIMB_MU) & (flat < contrast_cut)).astype(np.uint8)


def dice(truth: np.ndarray, guess: np.ndarray) -> float:
    truth, guess = truth.astype(bool), guess.astype(bool)
    total = int(truth.sum() + guess.sum())
    return 2.0 * int((truth & guess).sum()) / total if total else 1.0
