"""The synthetic archive: exact masks, the archive's conventions, determinism."""

import numpy as np

from sunspotter.acquire.synth import photometry
from sunspotter.acquire.synth.archive import Archive, render_observation, write_observation
from sunspotter.io import pspt
from tests.conftest import TINY

ARCHIVE = Archive.create(TINY)


def test_masks_agree_with_the_disk_geometry():
    rendered = render_observation(ARCHIVE, 0)
    header, codes = rendered.header, rendered.codes
    y, x = np.mgrid[: codes.shape[0], : codes.shape[1]]
    r = np.hypot(x - header["CENTER_X"], y - header["CENTER_Y"]) / header[pspt.RADIUS_KEY]
    assert set(np.unique(codes)) <= pspt.VALID_MASK_CODES
    assert np.all(codes[r > 1.001] == pspt.OFF_DISK)
    assert np.all(codes[r < 0.999] != pspt.OFF_DISK)
    # mu < 0.15 near the limb: quiet Sun whatever is there.
    near_limb = (r < 0.999) & (np.sqrt(np.clip(1 - r**2, 0, None)) < pspt.LIMB_MU - 0.01)
    assert np.all(codes[near_limb] == pspt.QUIET_SUN)


def test_spots_are_dark_and_masked():
    rendered = render_observation(ARCHIVE, 1)
    spot = pspt.sunspot_mask(rendered.codes).astype(bool)
    quiet = rendered.codes == pspt.QUIET_SUN
    assert spot.sum() > 20, "the tiny config puts several spot groups on the disk"
    image = rendered.images["R"].astype(float)
    assert image[rendered.codes == pspt.UMBRA].mean() < 0.7 * image[quiet].mean()


def test_limb_darkening_matches_neckel_labs():
    np.testing.assert_allclose(photometry.limb_darkening(np.array([1.0, 0.5, 0.0])), [1.0, 0.735, 0.305], atol=0.01)


def test_same_config_gives_identical_files(tmp_path):
    first = write_observation(render_observation(ARCHIVE, 2), tmp_path / "a")
    second = write_observation(render_observation(ARCHIVE, 2), tmp_path / "b")
    assert [p.name for p in first] == ["20140104.1800.HW.R.P.rdc.fits.gz", "20140104.1800.HW.K.P.rdc.fits.gz",
                                       "20140104.1800.HW.M.P.rdc.fits.gz"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_headers_carry_the_pspt_keys(tiny_archive):
    for name in ("20140102.1800.HW.R.P.rdc.fits.gz", "20140102.1800.HW.K.P.rdc.fits.gz",
                 "20140102.1800.HW.M.P.rdc.fits.gz"):
        _, header = pspt.read_fits(tiny_archive / name)
        for key in (*pspt.REQUIRED_KEYS, "DATE_END", "DARK01", "DARK04"):
            assert key in header, f"{name} lacks {key}"
        assert header["DATE_OBS"] == "2014-01-02T18:00:00"
