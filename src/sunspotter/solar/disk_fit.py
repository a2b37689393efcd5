"""Find the solar disk in a picture with no metadata: centre and radius from the limb.

The disk is the largest bright blob; its limb points are fitted with a circle, and points far off
the circle (text or a logo touching the limb, a clipped edge) are dropped and the circle refitted.
Text burnt in outside the disk is never part of the largest blob, so it cannot pull the fit.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from sunspotter.solar.disk import SolarDisk

#: The limb is where the brightness crosses this fraction of the way from sky to the disk's median.
LIMB_LEVEL = 0.25
#: A blob smaller than this fraction of the picture is not a full-disk Sun.
MIN_DISK_AREA = 0.02


class DiskFitError(ValueError):
    """No solar disk could be found."""


def _circle_through(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle (Kasa): x^2 + y^2 = 2 a x + 2 b y + c."""
    design = np.column_stack([2 * x, 2 * y, np.ones_like(x)])
    (a, b, c), *_ = np.linalg.lstsq(design, x * x + y * y, rcond=None)
    return float(a), float(b), float(np.sqrt(max(c + a * a + b * b, 0.0)))


def fit_disk(image: np.ndarray, rounds: int = 4) -> SolarDisk:
    """The solar disk in a 2-D image (any brightness units, sky darker than the disk)."""
    smooth = ndimage.uniform_filter(image.astype(np.float32), size=3)
    sky = float(np.percentile(smooth, 2))
    bright = smooth > sky + 0.5 * (float(np.percentile(smooth, 99.5)) - sky)
    if not bright.any():
        raise DiskFitError("no solar disk found: the picture has no bright region")
    disk_level = float(np.median(smooth[bright]))
    blobs, count = ndimage.label(smooth > sky + LIMB_LEVEL * (disk_level - sky))
    sizes = ndimage.sum_labels(np.ones_like(blobs), blobs, index=np.arange(1, count + 1))
    if count == 0 or sizes.max() < MIN_DISK_AREA * image.size:
        raise DiskFitError("no solar disk found: no bright blob covers 2 % of the picture")
    disk = ndimage.binary_fill_holes(blobs == 1 + int(np.argmax(sizes)))
    limb = disk & ~ndimage.binary_erosion(disk)
    # Points on the picture's border are where the disk is clipped, not its limb.
    limb[[0, -1], :] = limb[:, [0, -1]] = False
    y, x = np.nonzero(limb)
    if len(x) < 20:
        raise DiskFitError("no solar disk found: too few limb points")
    x, y = x.astype(np.float64), y.astype(np.float64)
    cx, cy, radius = _circle_through(x, y)
    for _ in range(rounds):
        residual = np.abs(np.hypot(x - cx, y - cy) - radius)
        keep = residual <= max(2.0, 3.0 * float(np.median(residual)))
        if keep.sum() < 20:
            break
        cx, cy, radius = _circle_through(x[keep], y[keep])
    if radius < 8:
        raise DiskFitError(f"no solar disk found: the fitted radius {radius:.1f} px is too small")
    return SolarDisk(cx, cy, radius)
