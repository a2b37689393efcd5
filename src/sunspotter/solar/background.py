"""A pixel's surroundings in a flattened solar image: what "darker than around it" is measured against.

Both the dust map (pixels dark on many frames) and the edge refinement of called spots compare a pixel
with the mean brightness of the disk around it, leaving out what must not count (the limb, spots).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Width (px, at the training plate scale) of the surroundings a pixel is compared with: wider than any
#: pore or speck, narrower than thin cloud's slow variation across the disk.
BACKGROUND_SIGMA_PX = 20.0
#: The background is blurred on a grid this many times coarser and interpolated back: it varies over tens
#: of pixels, and a full-resolution blur of a 2048 x 2048 frame costs about half a second.
COARSE = 4


#: scipy's Gaussian filters reach this many sigmas.
GAUSSIAN_TRUNCATE = 4.0


def background_reach_px(sigma_px: float) -> int:
    """How far from a pixel ``local_background`` looks (px): beyond it, nothing changes the pixel's background.
    The Gaussian's reach on the coarse grid, a coarse cell more for the interpolation back to pixels and one
    for a block straddling the edge."""
    cells = int(GAUSSIAN_TRUNCATE * sigma_px / COARSE + 0.5)
    return (cells + 2) * COARSE


def local_background(values: np.ndarray, usable: np.ndarray, sigma_px: float,
                     at: np.ndarray | None = None) -> np.ndarray:
    """At each pixel (or only at the ``at`` pixels, as a 1-D array), the mean of ``values`` over the ``usable``
    pixels around it, weighted by a Gaussian of ``sigma_px``; 1 (the quiet Sun of a flattened image) where
    no usable pixel is within reach."""
    pad = [(0, -n % COARSE) for n in values.shape]
    weights = np.pad(usable, pad).astype(np.float32)
    totals = np.pad(np.where(usable, values, 0), pad).astype(np.float32)

    def blurred_blocks(a: np.ndarray) -> np.ndarray:
        blocks = a.reshape(a.shape[0] // COARSE, COARSE, a.shape[1] // COARSE, COARSE).sum(axis=(1, 3))
        return ndimage.gaussian_filter(blocks, sigma_px / COARSE, truncate=GAUSSIAN_TRUNCATE)

    weight = blurred_blocks(weights)
    mean = np.divide(blurred_blocks(totals), weight, out=np.ones_like(weight), where=weight > 1e-3)
    if at is None:
        fine = ndimage.zoom(mean, COARSE, order=1, grid_mode=True, mode="nearest")
        return fine[: values.shape[0], : values.shape[1]]
    # Pixel p's centre lies at (p + 0.5) / COARSE - 0.5 on the coarse grid.
    return ndimage.map_coordinates(mean, (np.argwhere(at).T + 0.5) / COARSE - 0.5, order=1, mode="nearest")
