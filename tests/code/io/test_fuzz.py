"""Fuzzing the FITS pair reader and the tiler (hypothesis): whatever bytes or arrays arrive, the reader
either returns an image or raises the one clear error type that names the file, and the tiler's tiles
always agree with the mask they were cut from."""

from __future__ import annotations

import io

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sunspotter.dataset import tiles
from sunspotter.io import pspt

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_fits(shape=(16, 16)) -> bytes:
    buffer = io.BytesIO()
    header = fits.Header()
    header["DATE_OBS"] = "2014-01-05T18:00:00"
    fits.PrimaryHDU(np.arange(np.prod(shape), dtype=np.int16).reshape(shape), header).writeto(buffer)
    return buffer.getvalue()


VALID = _valid_fits()


@st.composite
def mutated_fits(draw) -> bytes:
    """A valid FITS file with some bytes overwritten, a cut, or junk appended: header cards and data alike."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data) + draw(st.binary(max_size=64))


@st.composite
def hostile_headers(draw) -> bytes:
    """Header cards with claims the data cannot back: huge or negative NAXIS, odd BITPIX, garbage values."""
    cards = [f"{'SIMPLE':8}= {'T':>20}", f"{'BITPIX':8}= {draw(st.sampled_from([8, 16, 32, -32, -64, 7, 0, 99])):>20}",
             f"{'NAXIS':8}= {draw(st.integers(-1, 3)):>20}"]
    for axis in (1, 2):
        cards.append(f"{f'NAXIS{axis}':8}= {draw(st.integers(-5, 2**31)):>20}")
    cards.append(f"{'JUNK':8}= {draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))}")
    cards.append("END")
    header = "".join(card[:80].ljust(80) for card in cards)
    header = header.ljust(-(-len(header) // 2880) * 2880)
    return header.encode("ascii", "replace") + draw(st.binary(max_size=4096))


@FUZZ
@given(payload=st.one_of(mutated_fits(), hostile_headers(), st.binary(max_size=3000)))
def test_fits_reader_returns_an_image_or_a_clear_error(tmp_path, payload):
    path = tmp_path / "20140105.1800.HW.R.P.rdc.fits"
    path.write_bytes(payload)
    try:
        data, header = pspt.read_fits(path)
    except pspt.PSPTFileError as err:
        assert str(path) in str(err)
    else:
        assert isinstance(header, fits.Header) and data.ndim >= 1


CODES = st.sampled_from(sorted(pspt.VALID_MASK_CODES))


@FUZZ
@given(codes=hnp.arrays(np.uint8, (64, 64), elements=CODES),
       image=hnp.arrays(np.float32, (64, 64), elements=st.floats(0, 2, width=32)),
       stride=st.sampled_from([8, 16]), min_disk_fraction=st.floats(0, 0.99))
def test_tiles_agree_with_their_mask(codes, image, stride, min_disk_fraction):
    spots = pspt.sunspot_mask(codes)
    for tile in tiles.tile_pair(image, codes, 16, min_disk_fraction, stride):
        window = np.s_[tile["row"]:tile["row"] + 16, tile["col"]:tile["col"] + 16]
        assert np.array_equal(tile["mask"], spots[window]) and np.array_equal(tile["image"], image[window])
        assert tile["label"] == int(spots[window].any()) and tile["sunspot_pixels"] == spots[window].sum()
        assert tile["disk_fraction"] > min_disk_fraction
        assert tile["darkest"] == pytest.approx(image[window][codes[window] > 0].min())
