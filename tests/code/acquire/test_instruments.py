"""Instrument profiles: the synthetic Sun at other plate scales, wavelengths, noise and file formats."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sunspotter.acquire.synth import instruments, photometry
from sunspotter.acquire.synth.archive import Archive, render_observation
from sunspotter.config import Profile
from sunspotter.dataset.frames import read_profile
from sunspotter.io import pspt
from sunspotter.solar import catalog
from sunspotter.solar.solar_image import as_red_contrast, read_solar_image
from tests.conftest import TINY

# The tiny archive is 256 px, 8 arcsec per pixel: profiles twice as fine and twice as coarse.
ARCHIVE = Archive.create(TINY)
FINE = Profile(arcsec_per_px=4.0, wavelength_nm=617.3, format="wcs_fits", photons=0)
COARSE = Profile(arcsec_per_px=16.0, wavelength_nm=617.3, format="jpeg", photons=0)


def test_blue_light_darkens_the_limb_and_the_spots_more_and_red_is_unchanged():
    ratios = np.array([1.0, 0.305, 0.3, 0.8, 1.05])
    np.testing.assert_allclose(photometry.at_wavelength(ratios, photometry.RED_NM), ratios, rtol=1e-6)
    blue = photometry.at_wavelength(ratios, 409.4)
    assert blue[0] == pytest.approx(1.0)
    assert 0.15 < blue[1] < 0.2  # the limb: about 0.18 observed at 409 nm against 0.31 in the red
    assert blue[2] < 0.6 * ratios[2] and blue[3] < ratios[3] and blue[4] > ratios[4]  # spots darker, faculae brighter
    assert np.all(np.diff(photometry.at_wavelength(np.linspace(0.1, 1.2, 50), 409.4)) > 0)


def test_contrasts_in_another_continuum_come_back_to_the_red_ones():
    red = np.array([0.3, 0.55, 0.8, 0.95, 1.0, 1.04], np.float32)
    # Wien's law against Planck's: within 0.005 of contrast over the visible, 0.025 in the near infrared.
    for wavelength, tolerance in ((409.4, 0.005), (550.0, 0.005), (676.8, 0.005), (1000.0, 0.025)):
        seen = photometry.at_wavelength(red, wavelength)
        np.testing.assert_allclose(as_red_contrast(seen, wavelength), red, atol=tolerance)
    for not_converted in (None, 607.1, 393.4, 19.5):  # unknown, the red itself, Ca II K, EUV
        assert as_red_contrast(red, not_converted) is red


def test_a_profile_sees_the_archive_frames_sun_at_its_own_scale():
    frame = render_observation(ARCHIVE, 1)
    fine, coarse = instruments.record(ARCHIVE, 1, FINE), instruments.record(ARCHIVE, 1, COARSE)
    assert fine.image.shape == (512, 512) and coarse.image.shape == (128, 128) and coarse.image.dtype == np.uint8
    # The same disk (in arcsec) and sky as the archive's frame of that day.
    for recorded, zoom in ((fine, 2.0), (coarse, 0.5)):
        for key in ("CENTER_X", "CENTER_Y"):
            assert (recorded.header[key] + 0.5) == pytest.approx((frame.header[key] + 0.5) * zoom, abs=0.01)
        assert recorded.header[pspt.RADIUS_KEY] == pytest.approx(frame.header[pspt.RADIUS_KEY] * zoom, rel=1e-3)
        assert recorded.header["SYNBADSE"] == frame.header["SYNBADSE"]
    # The same sunspot area, whatever the pixels (within what sampling spots 2-5 px across allows).
    spot_px = pspt.sunspot_mask(frame.codes).sum()
    assert pspt.sunspot_mask(fine.codes).sum() / 4 == pytest.approx(spot_px, rel=0.15)
    assert spot_px > 40


def test_binned_masks_keep_the_area_of_a_disk_half_covered_pixels_included():
    y, x = np.mgrid[:400, :400]
    codes = np.where((x - 200.3) ** 2 + (y - 199.6) ** 2 < 61.0**2, pspt.PENUMBRA, pspt.QUIET_SUN).astype(np.uint8)
    for factor in (2, 4, 5):
        binned = instruments._binned_codes(codes, factor)
        assert binned.shape == (400 // factor,) * 2
        assert (binned == pspt.PENUMBRA).sum() * factor**2 == pytest.approx((codes == pspt.PENUMBRA).sum(), rel=0.01)


def test_poisson_noise_follows_the_photon_count():
    quiet, noisy = (instruments.record(ARCHIVE, 2, dataclasses.replace(FINE, photons=photons))
                    for photons in (0, 400))
    centre = (slice(236, 276), slice(236, 276))
    relative = noisy.image[centre].std() / noisy.image[centre].mean()
    assert relative == pytest.approx(1 / np.sqrt(400), rel=0.35)  # 5 %, granulation (1 %) and spots aside
    assert quiet.image[centre].std() / quiet.image[centre].mean() < 0.02


@pytest.mark.parametrize("profile", [FINE, COARSE, dataclasses.replace(FINE, format="png", photons=2000),
                                     dataclasses.replace(FINE, arcsec_per_px=8.0, format="pspt_fits")])
def test_written_frames_read_back_with_their_geometry_and_masks(tmp_path, profile):
    recorded = instruments.record(ARCHIVE, 1, profile)
    (tmp_path / "p").mkdir()
    image_path, mask_path = instruments.write(recorded, profile, "p", tmp_path / "p")
    image = read_solar_image(image_path, date="2014-01-03")
    header = recorded.header
    assert image.arcsec_per_px == pytest.approx(profile.arcsec_per_px, rel=0.02)
    assert image.disk.center_x == pytest.approx(header["CENTER_X"], abs=1.0)
    assert image.disk.center_y == pytest.approx(header["CENTER_Y"], abs=1.0)
    assert image.disk.radius == pytest.approx(header[pspt.RADIUS_KEY], rel=0.01)
    # FITS say their wavelength (PSPT's in nm, a WCS header with its unit); a picture does not.
    assert image.wavelength_nm == (None if profile.format in ("jpeg", "png") else pytest.approx(profile.wavelength_nm))
    codes, _ = pspt.read_fits(mask_path)
    assert np.array_equal(codes, recorded.codes) and image.data.shape == codes.shape
    # Pixels line up: the mask's spots are dark in the image as read.
    flat, _ = image.flattened()
    spot = pspt.sunspot_mask(codes).astype(bool)
    assert np.median(flat[spot]) < 0.85
    # The catalog finds the true regions on the frame with its own mask.
    assert len(catalog.catalog(image, pspt.sunspot_mask(codes))) >= 1


def test_profile_manifest_lists_frames_with_their_conditions(tmp_path):
    from sunspotter.acquire.profiles import write_profiles
    from sunspotter.config import load_params
    from tests.conftest import REPO

    params = load_params(REPO / "params.yaml")
    params = dataclasses.replace(
        params, base=dataclasses.replace(params.base, seed=TINY.seed, image_size=TINY.image_size),
        acquire=dataclasses.replace(params.acquire, start_date=TINY.start_date, n_days=TINY.n_days,
                                    synthetic=TINY.settings),
        profiles={"coarse": COARSE, "fine": FINE})
    manifest = write_profiles(params, ["20140103.1800", "20140105.1800"], tmp_path / "profiles", progress=False,
                              workers=1)
    assert len(manifest) == 4
    frames, conditions = read_profile(tmp_path / "profiles" / "coarse")
    assert [frame.key for frame in frames] == ["20140103.1800", "20140105.1800"]
    assert frames[0].image.name == "20140103.1800.coarse.jpg" and frames[0].image.is_file()
    assert conditions == {"20140103.1800": ["clean"], "20140105.1800": ["clean"]}
    with pytest.raises(FileNotFoundError, match="dvc repro profiles"):
        read_profile(tmp_path / "profiles" / "missing")
