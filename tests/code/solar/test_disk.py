"""solar.disk: one disk geometry for every consumer, whether it came from a header, a WCS or a fit."""

import numpy as np
import pytest
from scipy import ndimage

from sunspotter.solar.disk import SolarDisk

DISK = SolarDisk(60.3, 58.7, 40.2)


def test_the_header_keys_round_trip():
    assert SolarDisk.from_header(DISK.to_header()) == DISK


def test_a_header_without_the_disk_is_refused_by_name():
    header = DISK.to_header()
    del header["RADIUS"]
    with pytest.raises(KeyError, match="RADIUS"):
        SolarDisk.from_header(header)


def test_mu_is_one_at_the_centre_zero_off_the_disk_and_agrees_with_mu_at():
    mu = DISK.mu((120, 128))
    assert mu.dtype == np.float32 and mu[59, 60] > 0.999 and mu[0, 0] == 0 and mu[59, 110] == 0
    rows, cols = np.nonzero(mu > 0)
    np.testing.assert_allclose(mu[rows, cols], DISK.mu_at(cols, rows), atol=1e-5)


def test_a_resampled_disk_is_where_the_resampled_image_puts_it():
    image = (DISK.mu((120, 128)) > 0).astype(np.float32)
    zoomed = ndimage.zoom(image, (0.5, 0.75), order=1, grid_mode=True, mode="nearest")
    disk = DISK.resampled(factor_x=0.75, factor_y=0.5)
    rows, cols = np.nonzero(zoomed > 0.5)
    assert cols.mean() == pytest.approx(disk.center_x, abs=0.3) and rows.mean() == pytest.approx(disk.center_y, abs=0.3)
    assert disk.radius == pytest.approx(DISK.radius * 0.625)


def test_numpy_numbers_make_the_same_float32_mu_as_plain_ones():
    from_numpy = SolarDisk(np.float64(60.3), np.float64(58.7), np.float64(40.2))
    assert from_numpy == DISK and from_numpy.mu((120, 128)).dtype == np.float32
    np.testing.assert_array_equal(from_numpy.mu((120, 128)), DISK.mu((120, 128)))
    resampled = DISK.resampled(*np.array([0.75, 0.5]))
    assert type(resampled.radius) is float and resampled.mu((60, 96)).dtype == np.float32
