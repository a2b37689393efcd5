"""Hostile files handed to `sunspotter predict` and to the pipeline's reader: a clear error each, bounded
memory and time, and the other files of the batch still processed. Tile-compressed images (as JSOC delivers
HMI) are refused from their headers, before anything is decompressed."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.hdu.compressed import _tiled_compression

from sunspotter.fulldisk.predict import predict_files
from sunspotter.io import pspt
from tests.code.fulldisk.test_full_disk import model, pspt_file, sun  # noqa: F401  (model is a fixture)

#: Address space the reader gets in the bomb test: the bomb decompresses to 2 GiB.
READER_MEMORY = 1 << 30


def small_pspt_hdu() -> bytes:
    header = fits.Header()
    header["DATE_OBS"], header["CENTER_X"], header["CENTER_Y"], header[pspt.RADIUS_KEY] = "2014-01-05T18:00:00", 31.5, 31.5, 25.0
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.ones((64, 64), np.int16), header).writeto(buffer)
    return buffer.getvalue()


def compressed_hdu(data=None, compression_type: str = "RICE_1") -> bytes:
    """An empty primary and a small tile-compressed image in HDU 1, as JSOC delivers HMI."""
    data = np.ones((64, 64), np.float32) if data is None else data
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, compression_type=compression_type)]).writeto(buffer)
    return buffer.getvalue()


def zeros_gzipped(gib: float) -> bytes:
    """``gib`` GiB of zeros as gzip members of 16 MiB each (a valid gzip stream of about 2 MB per GiB)."""
    return gzip.compress(bytes(1 << 24), compresslevel=9) * int(gib * 64)


def gzip_bomb(path, gib: float = 2, head: bytes | None = None):
    """A valid small image (``head``: a PSPT primary HDU unless given) followed by ``gib`` GiB of zeros,
    compressed to a few MB."""
    path.write_bytes(gzip.compress(small_pspt_hdu() if head is None else head) + zeros_gzipped(gib))
    return path


def card(keyword: str, value: str) -> str:
    return f"{keyword:8}= {value:>20}".ljust(80)


def header_only(*cards: str, payload: bytes = b"") -> bytes:
    text = "".join(cards) + "END".ljust(80)
    return text.ljust(-(-len(text) // 2880) * 2880).encode() + payload


def with_card(raw: bytes, keyword: str, value: str) -> bytes:
    """``raw`` with ``keyword``'s card in HDU 1 (the first after the one-block primary header) set to ``value``."""
    start = raw.index(f"{keyword:8}=".encode(), pspt.FITS_BLOCK)
    return raw[:start] + card(keyword, value).encode() + raw[start + 80:]


def gzip_tile_bomb(gib: float = 2) -> bytes:
    """A 64 x 64 GZIP_1-compressed image whose first tile inflates to ``gib`` GiB."""
    with fits.open(io.BytesIO(compressed_hdu(np.ones((64, 64), np.int16), "GZIP_1")),
                   disable_image_compression=True) as hdul:
        table, header = hdul[1].data, hdul[1].header.copy()
        table["COMPRESSED_DATA"][0] = np.frombuffer(zeros_gzipped(gib), np.uint8)
        buffer = io.BytesIO()
        fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(table, header)]).writeto(buffer)
    return buffer.getvalue()


EMPTY_PRIMARY = header_only(card("SIMPLE", "T"), card("BITPIX", "8"), card("NAXIS", "0"), card("EXTEND", "T"))
HOSTILE = {
    "huge_naxis.fits": header_only(card("SIMPLE", "T"), card("BITPIX", "16"), card("NAXIS", "2"),
                                   card("NAXIS1", "2000000000"), card("NAXIS2", "2000000000")),
    "wrong_bitpix.fits": header_only(card("SIMPLE", "T"), card("BITPIX", "12"), card("NAXIS", "2"),
                                     card("NAXIS1", "64"), card("NAXIS2", "64"), payload=bytes(8192)),
    "garbage_cards.fits": header_only(card("SIMPLE", "T"), "\x01\x02GARBAGE=='''" + "\x7f" * 60,
                                      card("BITPIX", "16"), card("NAXIS", "2"), card("NAXIS1", "64"),
                                      card("NAXIS2", "x64"), payload=bytes(8192)),
    "no_end.fits": (card("SIMPLE", "T") * 36 * 3).encode(),
    "truncated.fits": small_pspt_hdu()[:4000],
    # Tile-compressed: the image it decompresses to, its table and heap, and its gzip tiles are all bounded.
    "compressed_huge_znaxis.fits.fz": with_card(with_card(compressed_hdu(), "ZNAXIS1", "2000000000"),
                                                "ZNAXIS2", "2000000000"),
    "compressed_2gib_heap.fits.fz": with_card(compressed_hdu(), "PCOUNT", str(2**31)),
    "gzip_tile_bomb.fits.fz": gzip_tile_bomb(),
    "huge_table_before_the_image.fits": EMPTY_PRIMARY + header_only(
        card("XTENSION", "'BINTABLE'"), card("BITPIX", "8"), card("NAXIS", "2"), card("NAXIS1", "1000"),
        card("NAXIS2", "1000000"), card("PCOUNT", "0"), card("GCOUNT", "1"), card("TFIELDS", "0")),
}
#: The rule the error must name, for files whose image would be in an extension.
RULES = {"compressed_huge_znaxis.fits.fz": r"2000000000 x 2000000000 pixels \(ZNAXISn\)",
         "compressed_2gib_heap.fits.fz": r"table and heap \(NAXIS1 x NAXIS2 \+ PCOUNT\)",
         "gzip_tile_bomb.fits.fz": r"gzip tiles .* inflate to more than",
         "huge_table_before_the_image.fits": "HDUs before the image claim"}


@pytest.mark.parametrize("head", ["pspt_primary", "compressed_in_hdu_1"])
def test_a_gzip_bomb_is_read_in_bounded_memory_and_time(tmp_path, head):
    bomb = gzip_bomb(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", head={"pspt_primary": small_pspt_hdu(),
                                                                        "compressed_in_hdu_1": compressed_hdu()}[head])
    assert bomb.stat().st_size < 20e6
    child = (f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({READER_MEMORY}, {READER_MEMORY}));"
             f"from sunspotter.io import pspt; data, _ = pspt.read_fits({str(bomb)!r}); print(data.shape)")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(64, 64)" and time.monotonic() - start < 30


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_fits_is_a_clear_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    start = time.monotonic()
    with pytest.raises(pspt.PSPTFileError) as refused:
        pspt.read_fits(path)
    assert str(path) in str(refused.value) and time.monotonic() - start < 5
    assert re.search(RULES.get(name, ""), str(refused.value)), refused.value


@pytest.mark.parametrize("name", sorted(RULES))
def test_compressed_claims_are_refused_before_anything_is_decompressed(tmp_path, monkeypatch, name):
    """The files are small, and astropy is never asked to decompress a tile: the headers alone refuse them."""
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    assert path.stat().st_size < 3e6

    def refuse(*args, **kwargs):
        raise AssertionError("a tile was decompressed")

    monkeypatch.setattr(_tiled_compression, "_decompress_tile", refuse)
    with pytest.raises(pspt.PSPTFileError, match=RULES[name]):
        pspt.read_fits(path)


def test_predict_batch_goes_on_past_hostile_files(tmp_path, model):  # noqa: F811
    paths = []
    for name, payload in HOSTILE.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(payload)
    paths.append(gzip_bomb(tmp_path / "bomb.fits.gz", gib=1))
    good = pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun())
    batch = predict_files(model, [*paths, good], tmp_path / "out")
    summary, errors = batch.summary, batch.errors
    # The bomb's first HDU is a readable (tiny) image: it is processed, not refused.
    assert list(summary["image"]) == ["bomb.fits.gz", good.name]
    assert summary.set_index("image").loc[good.name, "regions"] == 1
    assert set(errors) == {str(p) for p in paths if p.name != "bomb.fits.gz"}
    assert all(path in message for path, message in errors.items())
