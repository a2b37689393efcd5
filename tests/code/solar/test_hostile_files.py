"""Hostile files handed to `sunspotter predict` and to the pipeline's reader: a clear error each, bounded
memory and time, and the other files of the batch still processed."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import time

import numpy as np
import pytest
from astropy.io import fits

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


def gzip_bomb(path, gib: float = 2):
    """A valid small image followed by ``gib`` GiB of zeros, compressed to a few MB."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(small_pspt_hdu())
        zeros = bytes(1 << 24)
        for _ in range(int(gib * 64)):
            handle.write(zeros)
    return path


def card(keyword: str, value: str) -> str:
    return f"{keyword:8}= {value:>20}".ljust(80)


def header_only(*cards: str, payload: bytes = b"") -> bytes:
    text = "".join(cards) + "END".ljust(80)
    return text.ljust(-(-len(text) // 2880) * 2880).encode() + payload


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
}


def test_a_gzip_bomb_is_read_in_bounded_memory_and_time(tmp_path):
    bomb = gzip_bomb(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz")
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


def test_predict_batch_goes_on_past_hostile_files(tmp_path, model):  # noqa: F811
    paths = []
    for name, payload in HOSTILE.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(payload)
    paths.append(gzip_bomb(tmp_path / "bomb.fits.gz", gib=1))
    good = pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun())
    summary, errors = predict_files(model, [*paths, good], tmp_path / "out")
    # The bomb's first HDU is a readable (tiny) image: it is processed, not refused.
    assert list(summary["image"]) == ["bomb.fits.gz", good.name]
    assert summary.set_index("image").loc[good.name, "regions"] == 1
    assert set(errors) == {str(p) for p in paths if p.name != "bomb.fits.gz"}
    assert all(path in message for path, message in errors.items())
