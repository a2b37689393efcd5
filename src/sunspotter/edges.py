"""Sunspot edges settled by the image's own brightness.

The localizer places a spot's edge to within about a pixel, but in both directions: it leaves out the
faint outer rim of a penumbra (0.84-0.87 of the quiet Sun) and widens a pore by a rim just as faint.
On a small spot one pixel all round is a large share of its area, enough to carry a region across the
catalog's listing limit, and so to change the count. A pixel's brightness against its surroundings
settles it: a pixel touching a called spot joins it if darker than ``grow`` x its surroundings, and a
called pixel stays only if darker than ``trim`` x them (so a called patch no darker than its
surroundings, such as a bright limb patch, goes).

The surroundings (``sunspotter.background``) leave out the limb and everything near a likely spot, so
that a spot does not darken its own background.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from sunspotter import pspt
from sunspotter.background import BACKGROUND_SIGMA_PX, local_background

#: Pixels the localizer gives at least this probability are likely spot: kept out of the background ...
LIKELY = 0.1
#: ... together with this many pixels around them (a penumbra's faint outer rim).
KEEP_CLEAR_PX = 6


def refine(mask: np.ndarray, probability: np.ndarray, contrast: np.ndarray, mu: np.ndarray,
           grow: float, trim: float, sigma_px: float = BACKGROUND_SIGMA_PX) -> np.ndarray:
    """``mask`` with each spot's edge moved by at most a pixel to where ``contrast`` (the flattened image)
    says it lies, and called patches no darker than ``trim`` x their surroundings dropped."""
    likely = ndimage.binary_dilation(probability >= LIKELY, iterations=KEEP_CLEAR_PX)
    spots = mask.astype(bool)
    candidates = ndimage.binary_dilation(spots, structure=np.ones((3, 3))) & (mu >= pspt.LIMB_MU)
    # Only the called pixels and their rim can change: the background is wanted there alone.
    background = local_background(contrast, (mu > pspt.LIMB_MU) & ~likely, sigma_px, at=candidates)
    relative = contrast[candidates] / np.maximum(background, 1e-3)
    keep = np.where(spots[candidates], relative < trim, relative < min(grow, trim))
    refined = np.zeros_like(spots)
    refined[candidates] = keep
    return refined.astype(mask.dtype)
