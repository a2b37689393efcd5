"""Sunspot edges settled by the image's own brightness.

The localizer places a spot's edge to within about a pixel, but in both directions: it leaves out the
faint outer rim of a penumbra (0.84-0.87 of the quiet Sun) and widens a pore by a rim just as faint.
On a small spot one pixel all round is a large share of its area, enough to carry a region across the
catalog's listing limit, and so to change the count. A pixel's brightness against its surroundings
settles it:

- a pixel touching a called spot joins it if darker than ``grow`` x its surroundings (so spots grow
  by one pixel at most);
- a called pixel stays only if darker than ``trim`` x them, wherever it lies in the spot (so a called
  patch no darker than its surroundings, such as a bright limb patch, goes, and so does a bright
  light bridge across a spot);
- and on the edge itself (a called pixel beside an uncalled one, or a pixel that would join) the pixel
  must also be darker than halfway from its darkest called neighbour to the surroundings. A sharp edge
  blurred by seeing lies at half depth; a penumbra's rim (0.86 beside 0.8) passes, a pore's (0.88
  beside 0.5) does not, which one fixed cut cannot tell apart.

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
#: ... together with this many pixels (at the training plate scale) around them: a penumbra's faint rim.
KEEP_CLEAR_PX = 6
#: A pixel's eight neighbours (row, column offsets).
NEIGHBOURS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


def refine(mask: np.ndarray, probability: np.ndarray, contrast: np.ndarray, mu: np.ndarray,
           grow: float, trim: float, px_per_training_px: float = 1.0) -> np.ndarray:
    """``mask`` with each spot's edge settled by ``contrast`` (the flattened image): grown by a pixel at
    most, and without the called pixels no darker than ``trim`` x their surroundings. Widths of the
    surroundings are given at the training plate scale; ``px_per_training_px`` converts them to the image's."""
    keep_clear = max(1, round(KEEP_CLEAR_PX * px_per_training_px))
    likely = ndimage.binary_dilation(probability >= LIKELY, iterations=keep_clear)
    spots = mask.astype(bool)
    candidates = ndimage.binary_dilation(spots, structure=np.ones((3, 3))) & (mu >= pspt.LIMB_MU)
    # Only the called pixels and their rim can change: everything is worked out at those pixels alone
    # (a few per thousand of the frame).
    usable = (mu > pspt.LIMB_MU) & ~likely
    background = local_background(contrast, usable, BACKGROUND_SIGMA_PX * px_per_training_px, at=candidates)
    rows, cols = np.nonzero(candidates)
    relative = contrast[rows, cols] / np.maximum(background, 1e-3)
    called = spots[rows, cols]
    # Relative brightness of called pixels, infinite elsewhere (and on a one-pixel frame round the image).
    called_relative = np.full((spots.shape[0] + 2, spots.shape[1] + 2), np.inf, np.float32)
    called_relative[rows[called] + 1, cols[called] + 1] = relative[called]
    neighbours = np.stack([called_relative[rows + 1 + dr, cols + 1 + dc] for dr, dc in NEIGHBOURS])
    darkest_neighbour = neighbours.min(axis=0)
    on_edge = ~called | ~np.isfinite(neighbours).all(axis=0)  # joining, or beside an uncalled pixel
    cut = np.where(called, trim, min(grow, trim))
    cut = np.where(on_edge, np.minimum(cut, (1 + darkest_neighbour) / 2), cut)
    refined = np.zeros_like(spots)
    refined[rows, cols] = relative < cut
    return refined.astype(mask.dtype)
