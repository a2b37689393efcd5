"""The solar disk in an image's pixels: its centre and radius, and mu, the cosine of the heliocentric angle.

One type for every consumer (flattening, tiling, STARA, the catalog, full-disk inference), whether the disk
came from a PSPT header, a WCS or a fit to a picture. The synthetic Sun keeps its own ephemeris
(``acquire.synth.geometry``), which is where these numbers come from for the default data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from sunspotter.io import pspt


@dataclass(frozen=True)
class SolarDisk:
    """Positions are 0-based pixels: x a column, y a row (row 0 at the bottom, as FITS stores it)."""

    center_x: float
    center_y: float
    radius: float  # pixels

    def __post_init__(self):
        # Plain floats whatever the caller had (numpy scalars from a fit or a resampling): numpy float64
        # scalars would make ``mu`` float64, and its ring boundaries would move with the precision.
        for name in ("center_x", "center_y", "radius"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @classmethod
    def from_header(cls, header) -> SolarDisk:
        """The disk a PSPT header records (``CENTER_X``, ``CENTER_Y``, ``RADIUS``; see docs/PSPT.md).

        Raises KeyError, ValueError or TypeError when a key is missing or not a number.
        """
        return cls(float(header["CENTER_X"]), float(header["CENTER_Y"]), float(header[pspt.RADIUS_KEY]))

    def to_header(self) -> fits.Header:
        """The PSPT keys for this disk, for FITS outputs a reader without a WCS can still place."""
        header = fits.Header()
        header["CENTER_X"], header["CENTER_Y"], header[pspt.RADIUS_KEY] = self.center_x, self.center_y, self.radius
        return header

    def mu(self, shape: tuple[int, int]) -> np.ndarray:
        """mu per pixel of an image of ``shape`` (float32), 0 off the disk."""
        y = ((np.arange(shape[0], dtype=np.float32) - self.center_y) / self.radius)[:, None]
        x = ((np.arange(shape[1], dtype=np.float32) - self.center_x) / self.radius)[None, :]
        # In place on one full-size array: tiling runs this on every image, and several workers share memory bandwidth.
        mu = x * x + y * y
        np.subtract(np.float32(1.0), mu, out=mu)
        np.maximum(mu, np.float32(0.0), out=mu)
        return np.sqrt(mu, out=mu)

    def mu_at(self, x, y):
        """mu at positions (float64, exact for a few points, where ``mu`` rounds a whole image to float32)."""
        squared = ((np.asarray(x, np.float64) - self.center_x) ** 2 + (np.asarray(y, np.float64) - self.center_y) ** 2)
        return np.sqrt(np.maximum(1 - squared / self.radius**2, 0.0))

    def resampled(self, factor_x: float, factor_y: float) -> SolarDisk:
        """The disk in the image resampled by these factors, pixel areas aligned (pixel p goes to
        (p + 0.5) * factor - 0.5, as ``scipy.ndimage.zoom(grid_mode=True)`` maps it)."""
        return SolarDisk((self.center_x + 0.5) * factor_x - 0.5, (self.center_y + 0.5) * factor_y - 0.5,
                         self.radius * (factor_x + factor_y) / 2)
