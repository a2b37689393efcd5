"""The raw suite passes a good archive and names the file and the rule for each kind of breakage."""

import gzip
import re
import shutil

import numpy as np
import pytest

from sunspotter.io import pspt
from sunspotter.dataset import tiles
from sunspotter.checks.raw import check_raw, quarantine
from tests.code.solar.test_hostile_files import card, gzip_bomb, header_only

IMAGE = "20140103.1800.HW.R.P.rdc.fits.gz"
MASK = "20140103.1800.HW.M.P.rdc.fits.gz"


@pytest.fixture
def archive(tiny_archive, tmp_path):
    copy = tmp_path / "raw"
    shutil.copytree(tiny_archive, copy)
    return copy


def _rewrite(path, change):
    data, header = pspt.read_fits(path)
    data, header = change(data.copy(), header)
    pspt.write_fits(path, data, header)


def _nan_image(data, header):
    data = data.astype(np.float32)
    data[5, 5] = np.nan
    return data, header


def _mask_code(code):
    def change(data, header):
        data[100, 100] = code
        return data, header
    return change


def _drop_key(key):
    def change(data, header):
        del header[key]
        return data, header
    return change


def test_good_archive_passes(archive):
    outcome, rules, _ = check_raw(archive, ["R"], 256)
    assert outcome.success, outcome.message()
    assert outcome.rows == 6 and rules >= 10


BREAKAGES = {
    "truncated gzip": (IMAGE, lambda p: p.write_bytes(p.read_bytes()[:500]), "image is readable FITS"),
    "not FITS": (IMAGE, lambda p: p.write_bytes(gzip.compress(b"hello, not a FITS file" * 100)), "image is readable FITS"),
    "empty file": (IMAGE, lambda p: p.write_bytes(b""), "image is readable FITS"),
    "NaN pixel": (IMAGE, lambda p: _rewrite(p, _nan_image), "no NaN or Inf"),
    "mask code 1": (MASK, lambda p: _rewrite(p, _mask_code(1)), "mask codes are within"),
    "mask code 9": (MASK, lambda p: _rewrite(p, _mask_code(9)), "mask codes are within"),
    "wrong shape": (IMAGE, lambda p: _rewrite(p, lambda d, h: (d[:128], h)), "256 x 256"),
    "image without mask": (MASK, lambda p: p.unlink(), "every image has its mask"),
    "mask with no disk": (MASK, lambda p: _rewrite(p, lambda d, h: (np.zeros_like(d), h)), "marks a solar disk"),
    "missing DATE_OBS": (IMAGE, lambda p: _rewrite(p, _drop_key("DATE_OBS")), "header has DATE_OBS"),
    "mask shifted against its image": (MASK, lambda p: _rewrite(p, lambda d, h: (np.roll(d, 6, axis=1), h)),
                                       "the mask's off-disk code 0 agrees"),
    "image shifted against its header": (IMAGE, lambda p: _rewrite(p, lambda d, h: (np.roll(d, -6, axis=0), h)),
                                         "the disk seen in the image is where"),
    "stray file": (None, lambda p: (p.parent / "notes.txt").write_text("x"), "file name follows"),
    "duplicate observation": (IMAGE, lambda p: shutil.copy(p, p.parent / IMAGE.removesuffix(".gz")), "no observation appears twice"),
    "mask under two suffixes": (MASK, lambda p: shutil.copy(p, p.parent / MASK.replace(".gz", ".fz")), "no observation appears twice"),
    # Hostile files (see tests/code/solar/test_hostile_files.py): the reader refuses them in bounded time and memory.
    "header claiming 2e9 x 2e9 pixels": (IMAGE, lambda p: p.write_bytes(gzip.compress(header_only(
        card("SIMPLE", "T"), card("BITPIX", "16"), card("NAXIS", "2"), card("NAXIS1", "2000000000"),
        card("NAXIS2", "2000000000")))), "image is readable FITS"),
    "BITPIX 12": (IMAGE, lambda p: p.write_bytes(gzip.compress(header_only(
        card("SIMPLE", "T"), card("BITPIX", "12"), card("NAXIS", "2"), card("NAXIS1", "256"), card("NAXIS2", "256"),
        payload=bytes(256 * 256 * 2)))), "image is readable FITS"),
    "gzip bomb": (IMAGE, lambda p: gzip_bomb(p, gib=0.25), "256 x 256"),
}


@pytest.mark.parametrize("kind", sorted(BREAKAGES))
def test_breakage_is_caught_naming_file_and_rule(archive, kind):
    target, breaks, rule = BREAKAGES[kind]
    breaks(archive / (target or IMAGE))
    outcome, _, _ = check_raw(archive, ["R"], 256)
    assert not outcome.success
    message = outcome.message()
    assert len(outcome.failures) >= 1
    assert any(rule in f["rule"] for f in outcome.failures), message
    named = {name for f in outcome.failures for name in f["unexpected"]}
    assert any("20140103.1800" in n or "notes.txt" in n for n in named), message
    # The good observations are not blamed.
    assert not any("20140102.1800" in n for n in named), message


@pytest.mark.parametrize("kind", sorted(BREAKAGES))
def test_quarantine_sets_aside_the_broken_observation_and_keeps_the_rest(archive, kind):
    """The other policy: the same breakages, set aside instead of stopping; every good observation stays."""
    target, breaks, _ = BREAKAGES[kind]
    breaks(archive / (target or IMAGE))
    outcome, _, table = check_raw(archive, ["R"], 256)
    set_aside = quarantine(outcome, table)
    if kind == "stray file":
        assert set_aside.observations == [] and set_aside.files == ["notes.txt"]
    else:
        assert set_aside.observations == ["20140103.1800"], set_aside
    kept = tiles.find_pairs(archive, ["R"], exclude=frozenset(set_aside.observations))
    assert len(kept) == 6 - len(set_aside.observations)
    assert "20140103.1800" not in {pair.observation.key for pair in kept} or kind == "stray file"


def test_data_docs_report_the_failure(archive, tmp_path):
    """The HTML report a person opens after a failed stage shows that it failed and which rule broke."""
    target, breaks, rule = BREAKAGES["mask code 9"]
    breaks(archive / target)
    docs = tmp_path / "data_docs"
    outcome, _, _ = check_raw(archive, ["R"], 256, docs_dir=docs)
    assert not outcome.success
    (page,) = docs.glob("validations/**/*.html")
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text()).split())
    assert "Status: Failed" in text and "Unsuccessful Expectations 1" in text, text[:2000]
    assert rule in text and "20140103.1800.HW.R.P.rdc.fits.gz" in text, text[:3000]
    assert (docs / "index.html").exists()
