"""Which way solar north lies in a file's pixels: a frame stored a quarter or half turn round is turned north up
exactly (for the network), any other angle is drawn north up (for the overlay)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.io import fits
from sunpy.coordinates import frames

from sunspotter.fulldisk.overlay import displayed_at, north_up_view
from sunspotter.solar import orientation
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import SolarImage
from tests.code.fulldisk.test_full_disk import DATE

SHAPE, SCALE = (200, 240), 10.0  # pixels (rows, columns); arcsec per pixel
REFERENCE = (130.0, 90.0)  # the pixel (x, y) the Sun's centre falls on
NORTH_ARCSEC = 500.0


def image_turned_by(degrees: float) -> tuple[SolarImage, tuple[int, int]]:
    """A frame whose WCS turns the sky by ``degrees`` (CROTA2), marked at 500 arcsec solar north of the Sun's
    centre; and the marker's (x, y) in the frame's pixels."""
    centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, obstime=DATE, observer="earth", frame=frames.Helioprojective)
    header = fits.Header(sunpy.map.make_fitswcs_header(SHAPE, centre, reference_pixel=list(REFERENCE) * u.pix,
                                                       scale=[SCALE] * 2 * u.arcsec / u.pix,
                                                       rotation_angle=degrees * u.deg))
    smap = sunpy.map.Map(np.zeros(SHAPE), header)
    north = SkyCoord(0 * u.arcsec, NORTH_ARCSEC * u.arcsec, frame=smap.coordinate_frame)
    x, y = (int(round(float(v.to_value(u.pix)))) for v in smap.world_to_pixel(north))
    data = np.zeros(SHAPE, np.float32)
    data[y - 1:y + 2, x - 1:x + 2] = 1.0
    return SolarImage(data, SolarDisk(*REFERENCE, 50.0), SCALE, DATE, None, header=header), (x, y)


def marker(array: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(array > 0.5)
    return np.array([cols.mean(), rows.mean()])


def test_an_upright_frame_and_a_file_without_wcs_are_left_alone():
    upright, _ = image_turned_by(0.0)
    assert orientation.quarter_turns(upright) == 0 and orientation.is_north_up(orientation.north_up_axes(upright))
    plain = SolarImage(upright.data, upright.disk, SCALE, DATE, None)
    assert orientation.north_up_axes(plain) is None and orientation.quarter_turns(plain) == 0


@pytest.mark.parametrize("degrees", [90.0, 180.0, 270.0])
def test_a_frame_stored_a_quarter_or_half_turn_round_is_turned_north_up_exactly(degrees):
    image, _ = image_turned_by(degrees)
    turns = orientation.quarter_turns(image)
    assert turns in (1, 2, 3)
    upright = orientation.turned(image, turns)
    above = marker(upright.data) - [upright.disk.center_x, upright.disk.center_y]
    assert above == pytest.approx([0.0, NORTH_ARCSEC / SCALE], abs=0.01)  # straight up, by the same distance
    assert np.array_equal(np.rot90(upright.data, -turns), image.data)  # a shuffle of pixels, nothing lost


def test_any_other_angle_is_drawn_north_up_and_its_labels_follow():
    image, (x, y) = image_turned_by(30.0)
    assert orientation.quarter_turns(image) == 0  # the network sees it as stored
    axes = orientation.north_up_axes(image)
    shown = north_up_view(image.data, axes, REFERENCE, order=0)
    assert marker(shown) - REFERENCE == pytest.approx([0.0, NORTH_ARCSEC / SCALE], abs=1.0)
    label = np.array(displayed_at(axes, REFERENCE, np.array([x]), np.array([y]))).ravel()
    assert label - REFERENCE == pytest.approx([0.0, NORTH_ARCSEC / SCALE], abs=0.6)
