"""From a detector's answer on one image to what users read: the regions, their catalog and the summary.

The one path from image to catalog that ``sunspotter predict``, the served pyfunc and the evaluation all
take, so a region is cut, listed and measured the same way wherever it is counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sunspotter.solar import catalog as regions_catalog
from sunspotter.solar.dust_map import count_patches
from sunspotter.solar.segmentation import Segmentation
from sunspotter.solar.solar_image import SolarImage


@dataclass(frozen=True)
class Analysis:
    """One image, a detector's segmentation of it and the sunspot regions of its mask."""

    image: SolarImage
    segmentation: Segmentation
    labels: np.ndarray     # every region of the mask labelled 1..n (``catalog.label_regions``)
    regions: pd.DataFrame  # the listed regions (``catalog.listed_regions``), each with its ``label``

    @classmethod
    def of(cls, image: SolarImage, segmentation: Segmentation) -> Analysis:
        labels, regions = regions_catalog.listed_regions(image, segmentation.mask)
        return cls(image, segmentation, labels, regions)

    @property
    def mask(self) -> np.ndarray:
        return self.segmentation.mask

    @property
    def catalog(self) -> pd.DataFrame:
        """One row per listed region, in the columns of ``catalog.COLUMNS``."""
        return self.regions[regions_catalog.COLUMNS]

    @property
    def dust_set_aside(self) -> int:
        """How many patches were called sunspot but set aside as lying on the detector's dust."""
        return count_patches(self.segmentation.dust)

    def summary(self) -> dict:
        """The image's figures: regions, total and umbral area (MSH), and sunspots set aside as dust."""
        return regions_catalog.summary(self.regions) | {"dust_set_aside": self.dust_set_aside}


def analyse(image: SolarImage, segment: Callable[[SolarImage], Segmentation]) -> Analysis:
    """Run a detector on ``image`` and list the regions it found.

    Parameters
    ----------
    image : SolarImage
        A full-disk image as ``read_solar_image`` gives it.
    segment : callable
        The detector: ``FullDiskModel.segment``, or a baseline wrapped by ``evaluation.full_disk.mask_only``.

    Returns
    -------
    Analysis
        The segmentation, the regions labelled in its mask, the catalog and the summary of the image.
    """
    return Analysis.of(image, segment(image))
