"""Sunspot regions are groups of spots close on the sphere: spots a few degrees apart are one region at
disk centre and near the limb alike, spots further apart are two, and small regions are not listed. Each
listed region is placed in the sky as NOAA and the HEK place it, and the table keeps its units in ECSV."""

from __future__ import annotations

import datetime as dt
import re

import astropy.units as u
import numpy as np
import pytest

from sunspotter.solar import catalog
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import SolarImage, apparent_radius_arcsec
from tests.conftest import REPO

SIZE, RADIUS, CENTRE = 1024, 480.0, 511.5
#: A date when the Sun's B0 angle is 0.0008 degrees: spots drawn with B0 = 0 lie where they were drawn.
NO_TILT = dt.datetime(2014, 6, 6, 18, 0)


def disk_image(date: dt.datetime | None = None) -> SolarImage:
    """A limb-darkened disk; with a ``date``, its plate scale is the Sun's apparent size then (a WCS places it)."""
    y, x = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(x - CENTRE, y - CENTRE) / RADIUS
    data = np.where(r <= 1, 1000.0 * (0.4 + 0.6 * np.sqrt(np.clip(1 - r**2, 0, None))), 0.0).astype(np.float32)
    scale = apparent_radius_arcsec(date) / RADIUS if date else 2.0
    return SolarImage(data, SolarDisk(CENTRE, CENTRE, RADIUS), arcsec_per_px=scale, date=date, source=__file__)


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


def test_a_dated_region_is_placed_in_every_frame():
    from sunpy.coordinates import sun

    table = catalog.catalog(disk_image(NO_TILT), spots_at((20, 40), radius_deg=2.0))
    row = table.iloc[0]
    # The spot is drawn as seen from infinitely far; the WCS sees the Sun from 1 AU, 0.2 degrees apart here.
    assert row["hgs_lat_deg"] == pytest.approx(20, abs=0.3) and row["hgs_lon_deg"] == pytest.approx(40, abs=0.3)
    assert (row["latitude_deg"], row["longitude_deg"]) == (row["hgs_lat_deg"], row["hgs_lon_deg"])
    # Carrington: the same latitude, the longitude turned by the central meridian's L0.
    assert row["hgc_lat_deg"] == pytest.approx(row["hgs_lat_deg"], abs=1e-3)
    assert (row["hgc_lon_deg"] - row["hgs_lon_deg"]) % 360 == pytest.approx(sun.L0(NO_TILT).to_value(u.deg), abs=0.02)
    scale = apparent_radius_arcsec(NO_TILT) / RADIUS  # arcsec per pixel, solar north up
    assert row["hpc_x_arcsec"] == pytest.approx((row["x"] - CENTRE) * scale, abs=3)
    assert row["hpc_y_arcsec"] == pytest.approx((row["y"] - CENTRE) * scale, abs=3)
    assert row["location"] == "N20W40" and row["obs_time"] == "2014-06-06T18:00:00Z"
    # A round spot 2 degrees in radius at latitude 20 spans 2 asin(sin 2 / cos 20) = 4.26 degrees of longitude.
    assert row["lon_extent_deg"] == pytest.approx(4.26, abs=0.25)
    assert pd_isna(row["track_id"]) and pd_isna(row["noaa_ar"])


def pd_isna(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_an_undated_picture_has_areas_but_no_place_in_the_sky():
    table = catalog.catalog(disk_image(), spots_at((20, 40), radius_deg=2.0))
    assert len(table) == 1 and table.loc[0, "area_msh"] > catalog.MIN_AREA_MSH
    assert table[[*catalog.SPHERE_COLUMNS, "latitude_deg", "longitude_deg"]].isna().all(axis=None)
    assert table.loc[0, "location"] == "" and table.loc[0, "obs_time"] == ""


def test_the_centroid_is_weighted_by_area_on_the_sphere():
    # A large spot near the limb: its limb side is squeezed into fewer pixels than its disk-centre side.
    image, mask = disk_image(), spots_at((0, 70), radius_deg=6.0)
    row = catalog.catalog(image, mask).iloc[0]

    def longitude(x, y):
        east_west, _, towards_us = catalog.on_sphere(image, np.array([x]), np.array([y]))[0]
        return np.degrees(np.arctan2(east_west, towards_us))

    from scipy import ndimage

    unweighted = longitude(*ndimage.center_of_mass(mask)[::-1])
    assert abs(longitude(row["x"], row["y"]) - 70) < 0.15 < 70 - unweighted


def test_spots_are_counted_by_their_umbral_cores():
    image = disk_image()
    group, pore = spots_at((10, 0), radius_deg=2.0), spots_at((-20, 30), radius_deg=1.5)
    cores = spots_at((10, -1.0), (10, 1.0), radius_deg=0.4)  # two dark cores in one penumbra
    image.data = np.where(cores, 0.3, np.where(group, 0.8, 1.0)).astype(np.float32) * image.data
    table = catalog.catalog(image, group | pore).sort_values("area_msh")
    # The pore-like spot has no pixel under the umbra contrast: still one spot, as NOAA counts it.
    assert list(table["spot_count"]) == [1, 2]
    assert table["umbra_msh"].iloc[1] > 0 and table["umbra_msh"].iloc[0] == 0


@pytest.mark.parametrize("lat, lon, expected", [(12.4, -33.6, "N12E34"), (-8.6, 71.2, "S09W71"),
                                                (-0.3, 0.2, "N00W00"), (np.nan, 10.0, "")])
def test_noaa_location_is_written_as_the_solar_region_summary_writes_it(lat, lon, expected):
    assert catalog.noaa_location(lat, lon) == expected


def test_the_qtable_carries_units_into_ecsv_and_back(tmp_path):
    from astropy.table import QTable
    from astropy.time import Time

    table = catalog.catalog(disk_image(NO_TILT), spots_at((20, 40), (-10, -20), radius_deg=2.0))
    qtable = catalog.as_qtable(table)
    assert qtable.colnames == catalog.COLUMNS
    km2 = qtable["area_msh"].to(u.km**2)  # 1 MSH is 2 pi R_sun^2 / 1e6, about 3.04e6 km^2
    assert km2.value == pytest.approx(table["area_msh"].to_numpy() * 3.0411e6, rel=1e-4)
    assert qtable["hpc_x_arcsec"].unit == u.arcsec and qtable["hgc_lon_deg"].unit == u.deg
    assert qtable["x"].unit == u.pix and isinstance(qtable["obs_time"], Time) and qtable["noaa_ar"].mask.all()
    path = tmp_path / "catalog.ecsv"
    qtable.write(path, format="ascii.ecsv")
    header = path.read_text()
    assert "unit: MSH" in header and "unit: arcsec" in header and "area on the sphere" in header
    back = QTable.read(path, format="ascii.ecsv")
    assert back["area_msh"].unit == catalog.MSH and back["hgs_lat_deg"].unit == u.deg
    assert np.allclose(back["area_msh"].to_value(u.km**2), km2.value)
    assert (back["obs_time"] == qtable["obs_time"]).all() and back["track_id"].mask.all()
    assert list(back["location"]) == list(table["location"])


def test_an_undated_or_empty_catalog_makes_a_qtable_too(tmp_path):
    from astropy.table import QTable

    undated = catalog.as_qtable(catalog.catalog(disk_image(), spots_at((20, 40), radius_deg=2.0)))
    assert undated["obs_time"].mask.all() and np.isnan(undated["hgs_lat_deg"].value).all()
    empty = catalog.as_qtable(catalog.catalog(disk_image(), np.zeros((SIZE, SIZE), np.uint8)))
    assert len(empty) == 0 and empty["area_msh"].unit == catalog.MSH
    empty.write(tmp_path / "empty.ecsv", format="ascii.ecsv")
    assert len(QTable.read(tmp_path / "empty.ecsv", format="ascii.ecsv")) == 0


def documented_columns() -> dict[str, str]:
    """docs/catalog.md's column table: name to unit ("-" for none)."""
    text = (REPO / "docs" / "catalog.md").read_text()
    return dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", text, flags=re.MULTILINE))


def test_every_column_is_documented_with_its_unit_and_nothing_else_is():
    in_code = {column.name: str(column.unit) if column.unit else "-" for column in catalog.SCHEMA}
    assert documented_columns() == in_code
