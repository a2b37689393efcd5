"""A raw archive whose files are plain ``.fits``, gzipped ``.fits.gz`` or fpacked ``.fits.fz`` (tile-compressed in
HDU 1) is checked, paired, tiled and shown exactly as the all-gzipped one; the same observation and filter under
two suffixes is caught, naming both files."""

from __future__ import annotations

import gzip
import shutil

import pytest
from astropy.io import fits

from sunspotter.acquire.gallery import write_gallery
from sunspotter.checks.raw import check_raw
from sunspotter.dataset import tiles
from sunspotter.io import pspt
from tests.conftest import TINY_SPLIT

#: How each observation's files are stored, by observation (the others stay gzipped): per filter letter.
STORAGE = {"20140102.1800": {"R": ".fits", "K": ".fits", "M": ".fits"},
           "20140103.1800": {"R": ".fits.fz", "K": ".fits.fz", "M": ".fits.fz"},
           "20140104.1800": {"R": ".fits", "K": ".fits.fz", "M": ".fits.gz"}}


def restore(source, target):
    """``source`` (a gzipped PSPT file) as ``target``'s suffix asks: gunzipped, or tile-compressed in HDU 1."""
    if target.name.endswith(".fits"):
        target.write_bytes(gzip.decompress(source.read_bytes()))
    else:
        data, header = pspt.read_fits(source)
        fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header, compression_type="RICE_1")]).writeto(target)
    source.unlink()


@pytest.fixture(scope="module")
def mixed_archive(tiny_archive, tmp_path_factory):
    """The tiny archive with three observations stored otherwise (``STORAGE``); read-only."""
    raw = tmp_path_factory.mktemp("mixed") / "raw"
    shutil.copytree(tiny_archive, raw)
    for key, suffixes in STORAGE.items():
        obs = pspt.Observation(*key.split("."))
        for letter, suffix in suffixes.items():
            if suffix != ".fits.gz":
                restore(raw / obs.file_name(letter), raw / f"{obs.stem(letter)}{suffix}")
    return raw


def test_raw_checks_pass_every_suffix(mixed_archive):
    assert {path.name.split(".rdc")[1] for path in mixed_archive.iterdir()} == {".fits", ".fits.gz", ".fits.fz"}
    outcome, _, table = check_raw(mixed_archive, ["R", "K"], 256)
    assert outcome.success, outcome.message()
    assert outcome.rows == 12 and table["mask_present"].all()


def test_pairs_are_found_whatever_the_suffix(tiny_archive, mixed_archive):
    pairs = tiles.find_pairs(mixed_archive, ["R", "K"])
    assert [p.observation for p in pairs] == [p.observation for p in tiles.find_pairs(tiny_archive, ["R", "K"])]
    by_key = {pair.observation.key: pair for pair in pairs}
    mixed = by_key["20140104.1800"]
    assert [path.name for path in (*mixed.images, mixed.mask)] == [
        "20140104.1800.HW.R.P.rdc.fits", "20140104.1800.HW.K.P.rdc.fits.fz", "20140104.1800.HW.M.P.rdc.fits.gz"]


def test_tiles_are_byte_identical_to_the_gzipped_archives(tiny_archive, mixed_archive, tmp_path):
    spec = tiles.TileSpec(tile_size=64, stride=64, min_disk_fraction=0.0, channels=("R", "K"), normalisation="quiet_sun")
    written = {}
    for name, raw in (("gzipped", tiny_archive), ("mixed", mixed_archive)):
        tiles.write_tiles(tiles.find_pairs(raw, ["R", "K"]), tmp_path / name, spec, split=TINY_SPLIT,
                          shards_per_split=1, seed=0, progress=False)
        written[name] = {path.name: path.read_bytes() for path in sorted((tmp_path / name).iterdir())}
    assert written["mixed"] == written["gzipped"]
    assert any(name.endswith(tiles.SHARD_SUFFIX) for name in written["mixed"])


def test_the_gallery_shows_every_suffix(tiny_archive, mixed_archive, tmp_path):
    for name, raw in (("gzipped", tiny_archive), ("mixed", mixed_archive)):
        write_gallery(raw, tmp_path / f"{name}.png", n=6)
    assert (tmp_path / "mixed.png").read_bytes() == (tmp_path / "gzipped.png").read_bytes()


def test_one_observation_under_two_suffixes_is_named(tiny_archive, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(tiny_archive, raw)
    mask = raw / "20140105.1800.HW.M.P.rdc.fits.gz"
    restore(shutil.copy(mask, raw / "copy.fits.gz"), raw / "20140105.1800.HW.M.P.rdc.fits")
    with pytest.raises(pspt.PSPTFileError, match=r"M\.P\.rdc\.fits and .*M\.P\.rdc\.fits\.gz: the same observation"):
        tiles.find_pairs(raw, ["R"])
    outcome, _, _ = check_raw(raw, ["R"], 256)
    twins = {name for f in outcome.failures if "appears twice" in f["rule"] for name in f["unexpected"]}
    assert twins == {"20140105.1800.HW.M.P.rdc.fits", "20140105.1800.HW.M.P.rdc.fits.gz"}, outcome.message()
