"""Sunspot regions are groups of spots close on the sphere: spots a few degrees apart are one region at
disk centre and near the limb alike, spots further apart are two, and small regions are not listed."""

from __future__ import annotations

import numpy as np
import pytest

from sunspotter.solar import catalog
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import SolarImage

SIZE, RADIUS, CENTRE = 1024, 480.0, 511.5


def disk_image() -> SolarImage:
    y, x = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(x - CENTRE, y - CENTRE) / RADIUS
    data = np.where(r <= 1, 1000.0 * (0.4 + 0.6 * np.sqrt(np.clip(1 - r**2, 0, None))), 0.0).astype(np.float32)
    return SolarImage(data, SolarDisk(CENTRE, CENTRE, RADIUS), arcsec_per_px=2.0, date=None, source=__file__)


def spots_at(*places, radius_deg=0.6) -> np.ndarray:
    """A mask with round spots at (latitude, longitude) degrees, B0 = 0, drawn as they project (foreshortened)."""
    y, x = np.mgrid[:SIZE, :SIZE]
    u, v = (x - CENTRE) / RADIUS, (y - CENTRE) / RADIUS
    w = np.sqrt(np.clip(1 - u**2 - v**2, 0, None))
    mask = np.zeros((SIZE, SIZE), np.uint8)
    for lat, lon in places:
        lat, lon = np.radians([lat, lon])
        centre = np.array([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)])
        angle = np.arccos(np.clip(u * centre[0] + v * centre[1] + w * centre[2], -1, 1))
        mask[(angle <= np.radians(radius_deg)) & (w > 0)] = 1
    return mask


def regions(mask) -> int:
    return catalog.label_regions(disk_image(), mask)[1]


@pytest.mark.parametrize("longitude", [0.0, 65.0])
def test_spots_a_few_degrees_apart_are_one_region_anywhere_on_the_disk(longitude):
    # 3.5 degrees centre to centre, edges 2.3 degrees apart: well inside the grouping distance.
    assert regions(spots_at((10, longitude), (10, longitude + 3.5))) == 1


@pytest.mark.parametrize("longitude", [0.0, 65.0])
def test_spots_far_apart_are_two_regions_even_when_foreshortening_brings_them_close(longitude):
    # 8 degrees apart; at 65 degrees from the central meridian they are under half as far apart in the image.
    assert regions(spots_at((10, longitude), (10, longitude + 8.0))) == 2


def test_a_chain_of_spots_is_one_region_and_the_count_ignores_small_ones():
    image = disk_image()
    mask = spots_at((-15, -20), (-15, -16), (-15, -12), radius_deg=1.2) | spots_at((20, 30), radius_deg=0.2)
    labels, count = catalog.label_regions(image, mask)
    assert count == 2
    table = catalog.catalog(image, mask)
    # The lone 0.2-degree pore is about 6 MSH: under the listing limit.
    assert len(table) == 1 and table.loc[0, "area_msh"] > catalog.MIN_AREA_MSH


def test_thousands_of_specks_are_grouped_within_bounded_work():
    rng = np.random.default_rng(1)
    mask = (rng.random((SIZE, SIZE)) < 0.05).astype(np.uint8) * (disk_image().data > 0)
    labels, count = catalog.label_regions(disk_image(), mask)
    assert count >= 1 and labels.max() == count and (labels > 0).sum() == mask.sum()


def test_analyse_lists_what_the_catalog_lists_and_counts_the_dust_set_aside():
    from sunspotter.solar.analysis import analyse
    from sunspotter.solar.segmentation import Segmentation

    image, mask = disk_image(), spots_at((10, 0), (-20, 30), radius_deg=1.5)
    dust = np.zeros(mask.shape, bool)
    dust[100:103, 500:503] = True  # one speck set aside

    def segment(_image):
        return Segmentation(mask, mask.astype(np.float32), dust)

    analysis = analyse(image, segment)
    expected = catalog.catalog(image, mask)
    assert analysis.catalog.equals(expected) and len(expected) == 2
    assert analysis.summary() == catalog.summary(expected) | {"dust_set_aside": 1}
    assert set(np.unique(analysis.labels)) == {0, *analysis.regions["label"]}
