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

The surroundings (``sunspotter.solar.background``) leave out the limb and everything near a likely spot, so
that a spot does not darken its own background.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from sunspotter.io import pspt
from sunspotter.solar.background import BACKGROUND_SIGMA_PX, COARSE, background_reach_px, local_background

#: Pixels the localizer gives at least this probability are likely spot: kept out of the background ...
LIKELY = 0.1
#: ... together with this many pixels (at the training plate scale) around them: a penumbra's faint rim.
KEEP_CLEAR_PX = 6
#: A pixel's eight neighbours (row, column offsets).
NEIGHBOURS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]
#: Called pixels are grouped by the square blocks of this many pixels they lie in; each group is refined apart.
GROUP_BLOCK_PX = 64


def refine(mask: np.ndarray, probability: np.ndarray, contrast: np.ndarray, mu: np.ndarray,
           grow: float, trim: float, px_per_training_px: float = 1.0) -> np.ndarray:
    """``mask`` with each spot's edge settled by ``contrast`` (the flattened image): grown by a pixel at
    most, and without the called pixels no darker than ``trim`` x their surroundings. Widths of the
    surroundings are given at the training plate scale; ``px_per_training_px`` converts them to the image's."""
    keep_clear = max(1, round(KEEP_CLEAR_PX * px_per_training_px))
    sigma_px = BACKGROUND_SIGMA_PX * px_per_training_px
    spots = mask.astype(bool)
    refined = np.zeros_like(spots)
    # Only the called pixels and their rim can change, and each one's answer depends on the image within
    # `margin` of it alone: each group of spots is worked on in a window reaching that far round it (a few per
    # cent of a frame), with the same answer as over the whole frame. Windows start on the background's grid.
    margin = keep_clear + background_reach_px(sigma_px)
    for inner in _spot_groups(spots):
        window = tuple(slice(max(0, (part.start - margin) // COARSE * COARSE), min(size, part.stop + margin))
                       for part, size in zip(inner, spots.shape))
        local = tuple(slice(part.start - outer.start, part.stop - outer.start) for part, outer in zip(inner, window))
        refined[inner] |= _refine_window(spots[window], probability[window], contrast[window], mu[window], local,
                                         grow, trim, keep_clear, sigma_px)
    return refined.astype(mask.dtype)


def _spot_groups(spots: np.ndarray) -> list[tuple[slice, slice]]:
    """Regions (row and column slices) that hold every called pixel and its rim: the bounding boxes of
    8-connected groups of GROUP_BLOCK_PX blocks holding a called pixel, one pixel wider all round."""
    size = GROUP_BLOCK_PX
    padded = np.pad(spots, [(0, -n % size) for n in spots.shape])
    occupied = padded.reshape(padded.shape[0] // size, size, padded.shape[1] // size, size).any(axis=(1, 3))
    groups, _ = ndimage.label(occupied, structure=np.ones((3, 3)))
    return [tuple(slice(max(part.start * size - 1, 0), min(part.stop * size + 1, n))
                  for part, n in zip(box, spots.shape)) for box in ndimage.find_objects(groups)]


def _refine_window(spots: np.ndarray, probability: np.ndarray, contrast: np.ndarray, mu: np.ndarray, local,
                   grow: float, trim: float, keep_clear: int, sigma_px: float) -> np.ndarray:
    """The refined mask over ``local`` (slices of the window): the rule of ``refine`` at its called pixels and rim."""
    likely = ndimage.binary_dilation(probability >= LIKELY, iterations=keep_clear)
    candidates = np.zeros_like(spots)
    candidates[local] = ndimage.binary_dilation(spots, structure=np.ones((3, 3)))[local] & (mu[local] >= pspt.LIMB_MU)
    usable = (mu > pspt.LIMB_MU) & ~likely
    background = local_background(contrast, usable, sigma_px, at=candidates)
    rows, cols = np.nonzero(candidates)
    relative = contrast[rows, cols] / np.maximum(background, 1e-3)
    called = spots[rows, cols]
    # Relative brightness of called pixels, infinite elsewhere (and on a one-pixel frame round the window).
    called_relative = np.full((spots.shape[0] + 2, spots.shape[1] + 2), np.inf, np.float32)
    called_relative[rows[called] + 1, cols[called] + 1] = relative[called]
    neighbours = np.stack([called_relative[rows + 1 + dr, cols + 1 + dc] for dr, dc in NEIGHBOURS])
    darkest_neighbour = neighbours.min(axis=0)
    on_edge = ~called | ~np.isfinite(neighbours).all(axis=0)  # joining, or beside an uncalled pixel
    cut = np.where(called, trim, min(grow, trim))
    cut = np.where(on_edge, np.minimum(cut, (1 + darkest_neighbour) / 2), cut)
    refined = np.zeros_like(spots)
    refined[rows, cols] = relative < cut
    return refined[local]
