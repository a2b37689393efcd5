"""One image's detection as users hold it: the mask as PSPT codes and as a sunpy Map, the probability, and
the catalog as a table with units; every output (``predict``'s files, the API, the pyfunc) is made from it.

Everything is on the input's own pixels: a picture's row 0 is its top row again, a FITS file's arrays are as
it stores them (a south-up HMI frame stays south up; only the overlay is turned north up).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.io import pspt
from sunspotter.solar import catalog
from sunspotter.solar.analysis import Analysis, analyse
from sunspotter.solar.solar_image import SolarImage

#: Why an answer has no sunpy Map: a picture with no date cannot be placed on the sky.
NO_WCS = "an undated picture has no coordinates on the sky: the mask is given as an array only (pass a date)"


@dataclass(frozen=True)
class Detection:
    """The sunspots of one image, found by one model."""

    analysis: Analysis
    model: str        # which model answered, as a reader should see it (registry URI and version, or a folder)
    fingerprint: str  # hash of that model's weights and settings (``FullDiskModel.fingerprint``)
    threshold: float
    edge_cuts: tuple[float | None, float | None]  # (grow, trim) of ``edges.refine``; None: the network's edges

    @property
    def image(self) -> SolarImage:
        return self.analysis.image

    def _as_input(self, array: np.ndarray) -> np.ndarray:
        """An array in FITS order back in the input's own row order (a picture's top row first)."""
        return array[::-1] if self.image.rows_flipped else array

    @cached_property
    def codes_fits_order(self) -> np.ndarray:
        """``codes`` with row 0 at the bottom, as FITS and sunpy store an image (and as the analysis runs)."""
        mask = self.analysis.mask.astype(bool)
        umbra = catalog.umbra_pixels(self.image, mask)
        return np.where(umbra, pspt.UMBRA, np.where(mask, pspt.PENUMBRA, 0)).astype(np.uint8)

    @property
    def codes(self) -> np.ndarray:
        """uint8 per input pixel, PSPT's codes: 7 umbra, 8 penumbra, 0 neither (see ``docs/catalog.md``)."""
        return self._as_input(self.codes_fits_order)

    @property
    def mask(self) -> np.ndarray:
        """uint8 per input pixel: 1 sunspot (umbra or penumbra), 0 not."""
        return self._as_input(self.analysis.mask.astype(np.uint8))

    @property
    def probability(self) -> np.ndarray:
        """The localizer's sunspot probability per input pixel (float32)."""
        return self._as_input(self.analysis.segmentation.probability)

    @property
    def catalog(self) -> pd.DataFrame:
        """One row per listed region (``docs/catalog.md``), as plain numbers."""
        return self.analysis.catalog

    @cached_property
    def regions(self):
        """The catalog as an ``astropy.table.QTable`` with units (MSH converts to km^2)."""
        return catalog.as_qtable(self.catalog)

    @property
    def mask_map(self):
        """The PSPT-coded mask as a ``sunpy.map.Map`` with the input's WCS; None for an undated picture
        (``map_note`` says why)."""
        if self.map_note:
            return None
        import sunpy.map

        # A Map is stored FITS-style, row 0 at the bottom, whatever order the input's rows had.
        return sunpy.map.Map(self.codes_fits_order, self.image.wcs_header())

    @property
    def map_note(self) -> str:
        """Why there is no ``mask_map``; empty when there is one."""
        return "" if "CTYPE1" in self.image.wcs_header() else NO_WCS

    def summary(self) -> dict:
        """The image's figures: regions, total and umbral area (MSH), spots set aside as dust."""
        return self.analysis.summary()


def detect_image(image: SolarImage, model: FullDiskModel, model_name: str = "a model loaded by the caller",
                 fingerprint: str | None = None) -> Detection:
    """Run ``model`` on ``image``; ``model_name`` says which model it was (its fingerprint, when a batch has
    it already, saves hashing the weights again)."""
    return Detection(analyse(image, model.segment), model_name, fingerprint or model.fingerprint(),
                     float(model.threshold),
                     (model.edge_grow, model.edge_trim))
