"""HMI as physicists download it (RICE in HDU 1, south up with CROTA2 = 180, blank sky) reads as the same Sun
as the plain frame; images that are plainly not white light are refused by their headers; sunpy maps become
SolarImages without a file."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from astropy.io import fits

from sunspotter.io import pspt
from sunspotter.solar import catalog
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import (
    FITS_SUFFIXES,
    SolarImageError,
    check_white_light,
    from_map,
    header_wavelength_nm,
    read_solar_image,
)
from tests.hmi_like import hmi_like_from_pspt, stored_disk, write_hmi_like

FRAME = "20140102.1800.HW.R.P.rdc.fits.gz"
MASK = "20140102.1800.HW.M.P.rdc.fits.gz"
COLUMNS = ["latitude_deg", "longitude_deg", "mu", "area_msh"]


@pytest.fixture(scope="module")
def frame(tiny_archive):
    data, header = pspt.read_fits(tiny_archive / FRAME)
    return data, SolarDisk.from_header(header), dt.datetime.fromisoformat(header["DATE_OBS"])


def _regions(image, mask):
    """The catalog's regions in a fixed order (by position on the Sun, which no storage changes)."""
    return catalog.catalog(image, mask).sort_values(["latitude_deg", "longitude_deg"]).reset_index(drop=True)


@pytest.mark.parametrize("kind", ["int", "float"])
def test_south_up_hmi_file_has_the_plain_files_disk_turned_half_a_turn(tiny_archive, tmp_path, frame, kind):
    data, disk, _ = frame
    rotated = read_solar_image(hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "hmi.fits.fz", kind))
    plain = read_solar_image(hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "plain.fits", kind, rotated=False))
    assert rotated.data.shape == data.shape and np.isfinite(rotated.data).all()  # blank sky set to 0
    assert rotated.disk.radius == pytest.approx(plain.disk.radius, rel=1e-9)
    assert rotated.disk.radius == pytest.approx(disk.radius, rel=1e-9)
    expected = stored_disk(plain.disk, data.shape)  # the plain disk's centre, turned half a turn
    assert (rotated.disk.center_x, rotated.disk.center_y) == pytest.approx((expected.center_x, expected.center_y), abs=1e-6)
    assert (plain.disk.center_x, plain.disk.center_y) == pytest.approx((disk.center_x, disk.center_y), abs=1e-6)
    assert rotated.wavelength_nm == pytest.approx(617.3) and rotated.date == dt.datetime(2014, 1, 2, 18)
    assert np.array_equal(rotated.data, np.rot90(plain.data, 2)), "the pixels stay as stored, not turned back"


def test_catalog_latitudes_of_a_south_up_file_are_the_plain_files(tiny_archive, tmp_path):
    codes, _ = pspt.read_fits(tiny_archive / MASK)
    mask = pspt.sunspot_mask(codes)
    rotated = read_solar_image(hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "hmi.fits"))
    plain = read_solar_image(hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "plain.fits", rotated=False))
    south_up, north_up = _regions(rotated, np.rot90(mask, 2)), _regions(plain, mask)
    assert len(south_up) == len(north_up) >= 3
    np.testing.assert_allclose(south_up[COLUMNS], north_up[COLUMNS], atol=1e-6)
    # Positions are in each file's own pixels: the south-up file's are turned half a turn.
    np.testing.assert_allclose(south_up[["x", "y"]], 255 - north_up[["x", "y"]], atol=1e-6)
    # And the same Sun as the PSPT frame (whose WCS is built from its date): within the ephemerides' rounding.
    pspt_regions = _regions(read_solar_image(tiny_archive / FRAME), mask)
    np.testing.assert_allclose(south_up["latitude_deg"], pspt_regions["latitude_deg"], atol=0.05)


def test_fpack_names_are_fits(tiny_archive, tmp_path):
    assert all(name.endswith(FITS_SUFFIXES) for name in ("a.fits.fz", "a.fz", "a.fits.gz", "a.fts"))
    image = read_solar_image(hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "hmi.fz"))
    assert image.header["CTYPE1"] == "HPLN-TAN"


NOT_WHITE_LIGHT = {
    "HMI magnetogram": ({"CONTENT": "MAGNETOGRAM", "BUNIT": "Gauss"}, "CONTENT = 'MAGNETOGRAM'"),
    "magnetogram by its unit": ({"CONTENT": "", "BUNIT": "Mx cm-2"}, "BUNIT = 'Mx cm-2'"),
    "dopplergram": ({"CONTENT": "", "BUNIT": "m/s"}, "a magnetic field or a velocity"),
    "AIA 171": ({"TELESCOP": "SDO/AIA", "INSTRUME": "AIA_3", "WAVELNTH": 171, "WAVEUNIT": "angstrom", "CONTENT": ""},
                "WAVELNTH = 171 angstrom, 17.1 nm, UV or EUV"),
    "AIA 1600": ({"TELESCOP": "SDO/AIA", "INSTRUME": "AIA_4", "WAVELNTH": 1600, "WAVEUNIT": "angstrom", "CONTENT": ""},
                 "160 nm, UV or EUV"),
    "H-alpha": ({"WAVELNTH": 6562.8, "WAVEUNIT": "angstrom", "CONTENT": ""}, "H-alpha (656.28 nm), a chromospheric line"),
    "Ca II H": ({"WAVELNTH": 396.8, "WAVEUNIT": "nm", "CONTENT": ""}, "Ca II H"),
}


@pytest.mark.parametrize("name", sorted(NOT_WHITE_LIGHT))
def test_images_that_are_not_white_light_are_refused_by_their_header(tiny_archive, tmp_path, frame, name):
    keys, says = NOT_WHITE_LIGHT[name]
    path = write_hmi_like(tmp_path / "x.fits", *frame, keys=keys)
    with pytest.raises(SolarImageError) as refused:
        read_solar_image(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: not a white-light image") and says in message and "\n" not in message


def test_pspt_filters_pass(tiny_archive, tmp_path):
    """Red and blue continuum, and Ca II K: a [K] tile channel trains a model that reads K frames."""
    assert read_solar_image(tiny_archive / FRAME).wavelength_nm == pytest.approx(607.1)
    assert read_solar_image(tiny_archive / "20140102.1800.HW.K.P.rdc.fits.gz").wavelength_nm == pytest.approx(393.4)
    data, header = pspt.read_fits(tiny_archive / FRAME)
    header["WAVELNTH"] = pspt.WAVELENGTH_NM["B"]
    pspt.write_fits(tmp_path / "blue.fits.gz", data, header)
    assert read_solar_image(tmp_path / "blue.fits.gz").wavelength_nm == pytest.approx(409.4)


def test_wavelengths_are_read_in_their_own_unit():
    assert header_wavelength_nm(fits.Header({"WAVELNTH": 607.1})) == pytest.approx(607.1)  # PSPT: nm, no unit
    assert header_wavelength_nm(fits.Header({"WAVELNTH": 6173.0, "WAVEUNIT": "angstrom"})) == pytest.approx(617.3)
    assert header_wavelength_nm(fits.Header({"WAVELNTH": 171, "WAVEUNIT": "ANGSTROM"})) == pytest.approx(17.1)
    assert header_wavelength_nm(fits.Header({"WAVELNTH": 1.0, "WAVEUNIT": "furlong-ish"})) is None
    check_white_light(fits.Header({"CONTENT": "CONTINUUM INTENSITY", "BUNIT": "DN/s"}), 617.3, "hmi")  # passes


def test_a_sunpy_map_becomes_a_solar_image_without_a_file(tiny_archive, tmp_path):
    import sunpy.map

    path = hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "hmi.fits", kind="float")
    data, header = pspt.read_fits(path)
    image = from_map(sunpy.map.Map(data, header), "fido result")
    read = read_solar_image(path)
    assert str(image.source) == "fido result" and image.disk == read.disk and np.isfinite(image.data).all()
    assert np.array_equal(image.data, read.data)
    header["CONTENT"] = "MAGNETOGRAM"
    with pytest.raises(SolarImageError, match="^fido result: not a white-light image"):
        from_map(sunpy.map.Map(data, header), "fido result")
