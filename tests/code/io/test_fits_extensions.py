"""The bounded reader finds the image wherever a FITS file keeps it: the primary, an IMAGE extension, or a
tile-compressed HDU behind an empty primary (HMI as JSOC delivers it), with the primary's keys inherited and
BSCALE, BZERO and BLANK applied; a PSPT frame reads the same however it is stored."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.hdu.compressed import _tiled_compression

from sunspotter.io import pspt
from sunspotter.solar.disk import SolarDisk
from tests.hmi_like import hmi_like_from_pspt, write_hmi_like

FRAME = "20140102.1800.HW.R.P.rdc.fits.gz"


def write_compressed_pspt(path, source):
    """A PSPT file rewritten as fpack would: an empty primary and the frame RICE-compressed in HDU 1."""
    data, header = pspt.read_fits(source)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header, compression_type="RICE_1")]).writeto(path)
    return path


@pytest.fixture(scope="module")
def frame(tiny_archive):
    return pspt.read_fits(tiny_archive / FRAME)


@pytest.mark.parametrize("kind", ["int", "float"])
def test_hmi_like_file_reads_as_the_frame_turned_half_a_turn(tiny_archive, tmp_path, frame, kind):
    data, header = frame
    path = hmi_like_from_pspt(tiny_archive / FRAME, tmp_path / "hmi.fits.fz", kind)
    stored, hmi_header = pspt.read_fits(path)
    turned = np.rot90(data, 2)
    off_disk = np.rot90(SolarDisk.from_header(header).mu(data.shape) <= 0, 2)
    assert stored.dtype == np.float32 and stored.shape == data.shape
    np.testing.assert_array_equal(np.isnan(stored), off_disk)  # BLANK (int) and NaN (float) sky alike
    # Scaled int16 is exact to half a BSCALE step; RICE-quantized float32 to a fraction of the noise.
    tolerance = 0.2 if kind == "int" else 0.02 * turned.max()
    assert np.abs(stored[~off_disk] - turned[~off_disk]).max() < tolerance
    assert hmi_header["CROTA2"] == 180 and hmi_header["WAVELNTH"] == 6173 and hmi_header["WAVEUNIT"] == "angstrom"
    assert not {"BSCALE", "BZERO", "BLANK"} & set(hmi_header), "applied, so dropped from the header"


def test_a_pspt_frame_reads_the_same_compressed_in_hdu_1(tiny_archive, tmp_path, frame):
    data, header = frame
    back, back_header = pspt.read_fits(write_compressed_pspt(tmp_path / "a.fits.fz", tiny_archive / FRAME))
    assert back.dtype.name == data.dtype.name and np.array_equal(back, data)  # int16, whatever the byte order
    assert all(back_header[key] == value for key, value in header.items() if key not in ("SIMPLE", "EXTEND"))
    assert pspt.read_header(tmp_path / "a.fits.fz")["SYNCLOUD"] == header["SYNCLOUD"]


def test_the_extension_inherits_the_primary_keys_it_lacks(tmp_path):
    primary = fits.PrimaryHDU()
    primary.header["DATE_OBS"], primary.header["OBSERVER"], primary.header["BSCALE"] = "2014-01-02T18:00:00", "MLSO", 3.0
    image = fits.ImageHDU(np.arange(256, dtype=np.int16).reshape(16, 16))
    image.header["OBSERVER"] = "HAO"
    fits.HDUList([primary, image]).writeto(tmp_path / "two.fits")
    data, header = pspt.read_fits(tmp_path / "two.fits")
    assert data[1, 0] == 16 and header["XTENSION"] == "IMAGE"
    assert header["DATE_OBS"] == "2014-01-02T18:00:00" and header["OBSERVER"] == "HAO"  # its own key wins
    assert "BSCALE" not in header and "SIMPLE" not in header, "keys about the primary's own data stay there"


def test_blank_pixels_become_nan_in_the_primary_and_in_an_extension(tmp_path):
    data = np.arange(256, dtype=np.int16).reshape(16, 16)
    data[0] = -1
    header = fits.Header({"BLANK": -1})
    fits.PrimaryHDU(data, header).writeto(tmp_path / "primary.fits")
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header)]).writeto(tmp_path / "compressed.fits")
    for name in ("primary.fits", "compressed.fits"):
        back, _ = pspt.read_fits(tmp_path / name)
        assert np.isnan(back[0]).all() and np.array_equal(back[1:], data[1:]), name


def test_hdus_before_the_image_are_skipped(tmp_path):
    table = fits.BinTableHDU.from_columns([fits.Column("X", "E", array=np.arange(1000, dtype=np.float32))])
    empty = fits.ImageHDU()
    image = fits.CompImageHDU(np.ones((32, 32), np.float32) * 7)
    fits.HDUList([fits.PrimaryHDU(), table, empty, image]).writeto(tmp_path / "later.fits")
    data, _ = pspt.read_fits(tmp_path / "later.fits")
    assert data.shape == (32, 32) and (data == 7).all()


def test_a_file_with_no_image_anywhere_is_refused(tmp_path):
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("X", "J", array=[1])])]).writeto(
        tmp_path / "table.fits")
    with pytest.raises(pspt.PSPTFileError, match="no image data in its primary HDU nor in an extension"):
        pspt.read_fits(tmp_path / "table.fits")
    fits.HDUList([fits.PrimaryHDU(), *(fits.ImageHDU() for _ in range(pspt.MAX_HDUS))]).writeto(tmp_path / "many.fits")
    with pytest.raises(pspt.PSPTFileError, match=f"no image in its first {pspt.MAX_HDUS} HDUs"):
        pspt.read_fits(tmp_path / "many.fits")


def test_read_header_decompresses_no_pixel(tiny_archive, tmp_path, monkeypatch):
    path = write_hmi_like(tmp_path / "hmi.fits", *_frame_disk_date(tiny_archive))

    def refuse(*args, **kwargs):
        raise AssertionError("decompressed")

    monkeypatch.setattr(_tiled_compression, "_decompress_tile", refuse)  # astropy's one way to decompress a tile
    header = pspt.read_header(path)
    assert header["NAXIS1"] == 256 and header["DSUN_OBS"] > 1e11 and header["CONTENT"] == "CONTINUUM INTENSITY"
    with pytest.raises(pspt.PSPTFileError):  # the reader does decompress: the patch is in force
        pspt.read_fits(path)


def _frame_disk_date(tiny_archive):
    data, header = pspt.read_fits(tiny_archive / FRAME)
    return data, SolarDisk.from_header(header), dt.datetime.fromisoformat(header["DATE_OBS"])


@pytest.mark.parametrize("suffix", pspt.SUFFIXES)
def test_every_pspt_suffix_is_a_pspt_name(suffix):
    assert pspt.parse_file_name(f"20050702.1702.HW.R.P.rdc{suffix}") == (pspt.Observation("20050702", "1702"), "R")


def test_find_file_finds_any_suffix_and_refuses_twins(tmp_path):
    obs = pspt.Observation("20140102", "1800")
    assert pspt.find_file(tmp_path, obs, "R") is None
    (tmp_path / f"{obs.stem('R')}.fits.fz").write_bytes(b"")
    assert pspt.find_file(tmp_path, obs, "R") == tmp_path / "20140102.1800.HW.R.P.rdc.fits.fz"
    assert pspt.find_file(tmp_path, obs, "M") is None
    (tmp_path / f"{obs.stem('R')}.fits").write_bytes(b"")
    with pytest.raises(pspt.PSPTFileError, match=r"rdc\.fits and .*rdc\.fits\.fz: the same observation and filter"):
        pspt.find_file(tmp_path, obs, "R")
