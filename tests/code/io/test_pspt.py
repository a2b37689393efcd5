import numpy as np
import pytest
from astropy.io import fits

from sunspotter.io import pspt


def test_file_names_round_trip():
    obs = pspt.Observation("20140102", "1800")
    name = obs.file_name("R")
    assert name == "20140102.1800.HW.R.P.rdc.fits.gz"
    assert pspt.parse_file_name(name) == (obs, "R")
    assert pspt.parse_file_name("20050702.1702.HW.R.P.rdc.fits") == (pspt.Observation("20050702", "1702"), "R")
    assert pspt.parse_file_name("20050702.1702.HW.R.P.rdc.fits.fz") == (pspt.Observation("20050702", "1702"), "R")
    assert obs.stem("M") == "20140102.1800.HW.M.P.rdc"


@pytest.mark.parametrize("bad", ["20140102.1800.HW.X.P.rdc.fits.gz", "image.fits", "2014012.1800.HW.R.P.rdc.fits",
                                 "20140102.1800.HW.R.P.rdc.fits.bz2"])
def test_bad_file_names_are_refused_with_the_rule(bad):
    with pytest.raises(pspt.PSPTFileError, match="not a PSPT file name"):
        pspt.parse_file_name(bad)


def test_sunspot_mask_is_codes_7_and_8():
    codes = np.array([[0, 2, 3, 4], [5, 6, 7, 8]], np.uint8)
    np.testing.assert_array_equal(pspt.sunspot_mask(codes), [[0, 0, 0, 0], [0, 0, 1, 1]])


def test_fits_writes_are_byte_identical_and_round_trip(tmp_path):
    data = np.arange(64, dtype=np.int16).reshape(8, 8)
    header = fits.Header({"DATE_OBS": "2014-01-02T18:00:00"})
    pspt.write_fits(tmp_path / "a.fits.gz", data, header)
    pspt.write_fits(tmp_path / "b.fits.gz", data, header)
    assert (tmp_path / "a.fits.gz").read_bytes() == (tmp_path / "b.fits.gz").read_bytes()
    back, back_header = pspt.read_fits(tmp_path / "a.fits.gz")
    np.testing.assert_array_equal(back, data)
    assert back_header["DATE_OBS"] == "2014-01-02T18:00:00"
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


def test_unreadable_fits_names_the_file(tmp_path):
    bad = tmp_path / "20140102.1800.HW.R.P.rdc.fits.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(pspt.PSPTFileError, match=str(bad)):
        pspt.read_fits(bad)
