"""Which way solar north lies in an image's pixels, from its WCS (CROTA2, or a PC or CD matrix).

HMI stores its frames south up (CROTA2 about 180); other instruments turn theirs by any angle. Positions stay
in the input's own pixels everywhere; the overlay is drawn north up, and inference turns a frame stored a
quarter or half turn from north up to north up first (an exact shuffle of pixels), so the network sees the
Sun as it was trained and a south-up file gets the same answer as the same Sun stored north up.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import SolarImage

#: Offsets on the sky (degrees) used to find which way north and west lie in the pixels.
PROBE_DEG = 0.03
#: An image this close (in pixel-vector terms, about 0.06 degrees) to a whole number of quarter turns is
#: taken as exactly that many.
TURN_TOLERANCE = 1e-3


def north_up_axes(image: SolarImage) -> np.ndarray | None:
    """Columns (west, north): the input pixel offsets (x, y) one pixel towards solar west and one towards
    solar north; None without a WCS (PSPT frames and pictures are stored north up)."""
    if "CTYPE1" not in image.header:
        return None
    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(image.header, naxis=2)
    centre = np.array(wcs.world_to_pixel_values(0.0, 0.0))
    west = np.array(wcs.world_to_pixel_values(PROBE_DEG, 0.0)) - centre
    north = np.array(wcs.world_to_pixel_values(0.0, PROBE_DEG)) - centre
    return np.column_stack([west, north]) / ((np.linalg.norm(west) + np.linalg.norm(north)) / 2)


def is_north_up(axes: np.ndarray | None) -> bool:
    return axes is None or np.allclose(axes, np.eye(2), atol=TURN_TOLERANCE)


def quarter_turns(image: SolarImage) -> int:
    """How many ``np.rot90`` turns (1-3) bring the image north up; 0 when it is, or when its WCS turns it by
    another angle or mirrors it (the network then sees it as stored)."""
    axes = north_up_axes(image)
    if is_north_up(axes):
        return 0
    for turns in (1, 2, 3):
        # np.rot90 once: new (x, y) = (y, width - 1 - x), so a pixel step (dx, dy) becomes (dy, -dx).
        turn = np.linalg.matrix_power(np.array([[0.0, 1.0], [-1.0, 0.0]]), turns)
        if np.allclose(turn @ axes, np.eye(2), atol=TURN_TOLERANCE):
            return turns
    return 0


def turned(image: SolarImage, turns: int) -> SolarImage:
    """``image`` turned ``turns`` quarter turns with ``np.rot90`` (disk included); its header is kept."""
    if turns % 4 == 0:
        return image
    disk = image.disk
    height, width = image.data.shape
    for _ in range(turns % 4):
        # np.rot90: new[row, col] = old[col, width - 1 - row], so old (x, y) lands on (y, width - 1 - x).
        disk = SolarDisk(disk.center_y, width - 1 - disk.center_x, disk.radius)
        height, width = width, height
    return replace(image, data=np.rot90(image.data, turns).copy(), disk=disk)
