"""Tiling, masks, date splits and the shard round trip."""

import logging

import numpy as np
import pytest

from sunspotter.config import Split
from sunspotter.dataset import stream, tiles
from sunspotter.io import pspt
from sunspotter.solar import classical
from sunspotter.solar.disk import SolarDisk
from tests.conftest import TINY_SPLIT

SPEC = tiles.TileSpec(tile_size=32, stride=32, min_disk_fraction=0.0, channels=("R",), normalisation="disk_centre")


def _disk_codes(size=64, radius=20):
    y, x = np.mgrid[:size, :size]
    codes = np.where(np.hypot(x - size / 2, y - size / 2) < radius, pspt.QUIET_SUN, pspt.OFF_DISK).astype(np.uint8)
    return codes


def test_tiles_cover_the_disk_and_drop_empty_space():
    codes = _disk_codes()
    codes[30:33, 30:33] = pspt.UMBRA
    codes[29, 30:33] = pspt.PENUMBRA
    image = np.arange(64 * 64, dtype=np.float32).reshape(64, 64)
    kept = list(tiles.tile_pair(image, codes, tile_size=16, min_disk_fraction=0.0))
    positions = {(t["row"], t["col"]) for t in kept}
    # The disk (radius 20 around 32, 32) misses the four corner tiles of the 4 x 4 grid; row/col are pixels.
    corners = {(0, 0), (0, 48), (48, 0), (48, 48)}
    assert positions == {(r, c) for r in range(0, 64, 16) for c in range(0, 64, 16)} - corners
    by_position = {(t["row"], t["col"]): t for t in kept}
    centre = by_position[(16, 16)]
    np.testing.assert_array_equal(centre["image"], image[16:32, 16:32])
    assert centre["sunspot_pixels"] == 3 + 3 * 3 - 3 * 2 and centre["label"] == 1  # rows 29-31, cols 30-31
    assert set(np.unique(centre["mask"])) <= {0, 1}
    for tile in kept:
        assert tile["label"] == int(tile["mask"].any()) and tile["sunspot_pixels"] == tile["mask"].sum()
        window = np.s_[tile["row"]:tile["row"] + 16, tile["col"]:tile["col"] + 16]
        assert tile["darkest"] == image[window][codes[window] > 0].min()  # on-disk pixels only


def test_min_disk_fraction_drops_limb_tiles():
    codes = _disk_codes()
    all_tiles = list(tiles.tile_pair(np.zeros((64, 64), np.float32), codes, 16, 0.0))
    full_only = list(tiles.tile_pair(np.zeros((64, 64), np.float32), codes, 16, 0.99))
    assert len(full_only) < len(all_tiles)
    assert all(t["disk_fraction"] == 1.0 for t in full_only)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="differs from mask shape"):
        list(tiles.tile_pair(np.zeros((64, 64)), np.zeros((32, 32), np.uint8), 16, 0.0))
    with pytest.raises(ValueError, match="not a multiple of the tile size"):
        list(tiles.tile_pair(np.zeros((60, 60)), np.zeros((60, 60), np.uint8), 16, 0.0))


def _dates(n: int, start: str = "2014-01-02") -> list[str]:
    return [str(day).replace("-", "") for day in np.arange(np.datetime64(start), np.datetime64(start) + n)]


def _runs(split: dict[str, str], dates: list[str], name: str) -> list[int]:
    """Lengths of the runs of consecutive dates (in ``dates`` order) that ``split`` gives to ``name``."""
    runs, length = [], 0
    for date in dates:
        if split.get(date) == name:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    return runs + ([length] if length else [])


def test_split_is_by_date_in_blocks_with_gaps_and_deterministic():
    dates = _dates(60)
    spec = Split(val=0.15, test=0.25, block_days=5, gap_days=3)
    split = tiles.split_by_date(dates * 2, spec, seed=3)  # two observations a day: still one split per date
    assert split == tiles.split_by_date(dates, spec, seed=3)
    assert set(split) <= set(dates)
    assert _runs(split, dates, "test") and all(run % 5 == 0 for run in _runs(split, dates, "test"))
    assert sum(_runs(split, dates, "test")) == 15 and sum(_runs(split, dates, "val")) == 10
    # No train date within 3 days of a val or test date: a spot is 40 degrees or more further on.
    day = {date: i for i, date in enumerate(dates)}
    held = [day[d] for d, s in split.items() if s != "train"]
    assert min(abs(day[d] - h) for d, s in split.items() if s == "train" for h in held) > 3
    # Val and test apart too, and the dates between them left out of every split.
    val, test = ([day[d] for d, s in split.items() if s == name] for name in ("val", "test"))
    assert min(abs(v - t) for v in val for t in test) > 3
    assert len(dates) - len(split) >= 3


def test_split_tests_and_trains_on_every_condition_seen_twice():
    dates = _dates(48)
    rng = np.random.default_rng(0)
    strata = {date: str(rng.choice(["clean", "dust", "cloud", "bad_seeing"], p=[0.45, 0.3, 0.15, 0.1]))
              for date in dates}
    strata[dates[40]] = "rare"  # one date only: it cannot be both trained on and tested
    for seed in range(5):
        split = tiles.split_by_date(dates, Split(val=0.15, test=0.25, block_days=6, gap_days=2), seed, strata)
        tested = [strata[d] for d, s in split.items() if s == "test"]
        trained = {strata[d] for d, s in split.items() if s == "train"}
        assert {"clean", "dust", "cloud", "bad_seeing"} <= set(tested) & trained
        assert all(tested.count(c) >= 2 for c in ("clean", "dust", "cloud", "bad_seeing")), tested
        assert "val" in split.values()


def test_calendar_gaps_count_in_days_not_observations():
    """A real archive misses days: the gap is measured on the calendar."""
    dates = _dates(40)[::2]  # every other day
    split = tiles.split_by_date(dates, Split(val=0.2, test=0.2, block_days=4, gap_days=3), seed=1)
    day = {date: np.datetime64(f"{date[:4]}-{date[4:6]}-{date[6:]}") for date in dates}
    held = [day[d] for d, s in split.items() if s != "train"]
    assert min(abs((day[d] - h).astype(int)) for d, s in split.items() if s == "train" for h in held) > 3


def test_an_archive_too_short_for_the_blocks_is_a_clear_error():
    with pytest.raises(ValueError, match="lower tile.split"):
        tiles.split_by_date(_dates(6), Split(val=0.3, test=0.3, block_days=2, gap_days=5), seed=0)


def test_shards_round_trip_through_tf_data(tiny_archive, tmp_path):
    pairs = tiles.find_pairs(tiny_archive, ["R"])
    out = tmp_path / "tiles"
    index = tiles.write_tiles(pairs, out, SPEC, split=TINY_SPLIT,
                              shards_per_split=2, seed=1, progress=False)
    assert index["tile_id"].is_unique
    assert index.groupby("date")["split"].nunique().max() == 1
    assert set(index["split"]) == {"train", "val", "test"}
    # Every tile read back from the shards matches the source pair and the index.
    pair = pairs[0]
    image, header = pspt.read_fits(pair.images[0])
    codes, _ = pspt.read_fits(pair.mask)
    scaled = classical.normalise(image, SolarDisk.from_header(header), SPEC.normalisation)
    expected_mask = pspt.training_mask(codes, SolarDisk.from_header(header).mu(codes.shape))
    assert (expected_mask == pspt.UNLABELLED).any(), "the limb band is in the masks, unlabelled"
    split = index.loc[index["observation"] == pair.observation.key, "split"].iloc[0]
    seen = 0
    for ids, images, masks in stream.make_dataset(out, split, "mask", 16, with_ids=True):
        for tile_id, tile_image, tile_mask in zip(ids.numpy(), images.numpy(), masks.numpy()):
            row = index.set_index("tile_id").loc[tile_id.decode()]
            if row["observation"] != pair.observation.key:
                continue
            window = np.s_[row["row"]:row["row"] + 32, row["col"]:row["col"] + 32]
            np.testing.assert_array_equal(tile_image[..., 0], scaled[window])
            np.testing.assert_array_equal(tile_mask[..., 0], expected_mask[window])
            seen += 1
    assert seen == (index["observation"] == pair.observation.key).sum() > 0
    assert not list(tmp_path.glob(".tiles.*")), "the staging folder is gone"


def test_missing_mask_is_named(tiny_archive, tmp_path):
    (tmp_path / "20140102.1800.HW.R.P.rdc.fits.gz").write_bytes((tiny_archive / "20140102.1800.HW.R.P.rdc.fits.gz").read_bytes())
    with pytest.raises(pspt.PSPTFileError, match="20140102.1800.HW.M.P.rdc.fits.gz"):
        tiles.find_pairs(tmp_path, ["R"])


def test_hidden_and_misnamed_files_are_not_pairs(tiny_archive, tmp_path):
    """A download's .part, an atomic write's .tmp and a .bak copy beside the archive are not observations."""
    import shutil

    raw = tmp_path / "raw"
    shutil.copytree(tiny_archive, raw)
    image = raw / "20140102.1800.HW.R.P.rdc.fits.gz"
    shutil.copy(image, raw / f".{image.name}.part")
    shutil.copy(image, raw / f"{image.name}.bak")
    keys = [pair.observation.key for pair in tiles.find_pairs(raw, ["R"])]
    assert keys == [pair.observation.key for pair in tiles.find_pairs(tiny_archive, ["R"])]


@pytest.mark.parametrize("n_dates", [3, 4, 5])
def test_every_split_gets_a_date_even_with_few_dates_and_big_fractions(n_dates):
    split = tiles.split_by_date(_dates(n_dates), Split(val=0.3, test=0.5, block_days=8, gap_days=0), seed=0)
    assert sorted(set(split.values())) == ["test", "train", "val"]


def test_tiling_is_byte_identical_across_processes(tiny_archive, tmp_path):
    """DVC hashes the shards: the same input must give the same bytes in any process (hash seeds differ)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from sunspotter.dataset import tiles; from sunspotter.config import Split\n"
        "spec = tiles.TileSpec(64, 64, 0.0, ('R', 'K'), 'quiet_sun')\n"
        "tiles.write_tiles(tiles.find_pairs(Path(sys.argv[1]), ['R', 'K']), Path(sys.argv[2]), spec, "
        "split=Split(0.25, 0.25, 1, 0), shards_per_split=1, seed=0, progress=False)\n"
    )
    outputs = []
    for run, hash_seed in enumerate(("1", "2")):
        out = tmp_path / f"tiles{run}"
        subprocess.run([sys.executable, "-c", script, str(tiny_archive), str(out)], check=True,
                       env=os.environ | {"PYTHONHASHSEED": hash_seed})
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]


def test_stride_overlaps_tiles_and_channels_stack():
    codes = _disk_codes()
    image = np.stack([np.full((64, 64), 1.0, np.float32), np.full((64, 64), 2.0, np.float32)], axis=-1)
    kept = list(tiles.tile_pair(image, codes, tile_size=16, min_disk_fraction=0.0, stride=8))
    assert {t["row"] for t in kept} == set(range(0, 49, 8))
    assert kept[0]["image"].shape == (16, 16, 2) and np.all(kept[0]["image"][..., 1] == 2.0)


def test_quiet_sun_normalisation_removes_limb_darkening(tiny_archive):
    image, header = pspt.read_fits(tiny_archive / "20140102.1800.HW.R.P.rdc.fits.gz")
    codes, _ = pspt.read_fits(tiny_archive / "20140102.1800.HW.M.P.rdc.fits.gz")
    flat = classical.normalise(image, SolarDisk.from_header(header), "quiet_sun")
    quiet = codes == pspt.QUIET_SUN
    centre = classical.normalise(image, SolarDisk.from_header(header), "disk_centre")
    # Quiet Sun is 1 from centre to limb; scaled by the centre alone, the limb stays dark.
    assert np.percentile(flat[quiet], [5, 95]) == pytest.approx([1.0, 1.0], abs=0.05)
    assert np.percentile(centre[quiet], 5) < 0.6


def test_dask_workers_give_the_same_bytes_as_one_process(tiny_archive, tmp_path):
    spec = tiles.TileSpec(tile_size=32, stride=32, min_disk_fraction=0.0, channels=("R", "K"), normalisation="quiet_sun")
    pairs = tiles.find_pairs(tiny_archive, ["R", "K"])
    tiles.write_tiles(pairs, tmp_path / "local", spec, split=TINY_SPLIT, shards_per_split=2, seed=0,
                      progress=False)
    with tiles.dask_client(workers=2) as client:
        tiles.write_tiles(pairs, tmp_path / "dask", spec, split=TINY_SPLIT, shards_per_split=2, seed=0,
                          client=client, progress=False)
    local = {p.name: p.read_bytes() for p in (tmp_path / "local").iterdir()}
    assert local == {p.name: p.read_bytes() for p in (tmp_path / "dask").iterdir()}
    assert tiles.read_meta(tmp_path / "dask").channels == ["R", "K"]


def test_training_kinds_pick_dark_spot_free_tiles_off_the_limb():
    import pandas as pd

    index = pd.DataFrame({
        "tile_id": ["spot", "speck", "limb", "plain", "other-split"],
        "split": ["train"] * 4 + ["val"],
        "label": [1, 0, 0, 0, 0],
        "disk_fraction": [1.0, 1.0, 0.4, 1.0, 1.0],
        "darkest": [0.3, 0.6, 0.0, 0.95, 0.5],
    })
    assert stream.training_kinds(index, "train") == {"sunspot": ["spot"], "hard_negative": ["speck"],
                                                    "clear": ["limb", "plain"]}


def test_training_stream_draws_each_kind_at_its_share(good_tiles, tmp_path):
    """Spots, hard negatives and the rest reach the batches in the shares asked for; ids alone select them."""
    import shutil

    work = tmp_path / "tiles"
    shutil.copytree(good_tiles, work)
    index = tiles.read_index(work)
    train = index["split"] == "train"
    # Call a few spot-free tiles dark, as a dust speck would make them.
    marked = index[train & (index["label"] == 0) & (index["disk_fraction"] >= 1)].index[:5]
    index.loc[marked, "darkest"] = 0.5
    index.to_parquet(work / tiles.INDEX_NAME)
    kinds = stream.training_kinds(index, "train")
    assert len(kinds["hard_negative"]) >= 5 and kinds["sunspot"]
    kind_of = {tile_id: kind for kind, ids in kinds.items() for tile_id in ids}

    def shares(hard_fraction):
        ds = stream.make_dataset(work, "train", "label", 50, shuffle=True, seed=3, with_ids=True,
                                positive_fraction=0.5, hard_negative_fraction=hard_fraction)
        drawn = [kind_of[tile_id.decode()] for ids, _, _ in ds.take(8) for tile_id in ids.numpy()]
        return {kind: drawn.count(kind) / len(drawn) for kind in kinds}

    drawn = shares(0.25)
    assert drawn["sunspot"] == pytest.approx(0.5, abs=0.07)
    assert drawn["hard_negative"] == pytest.approx(0.25, abs=0.07)
    assert shares(0.0)["hard_negative"] < 0.1  # without the knob they are ordinary negatives


def test_training_mask_leaves_the_limb_band_unlabelled():
    """On the disk at mu < LIMB_MU the archive codes quiet Sun whatever is there: unlabelled, not 'no spot'."""
    codes = np.full((3, 3), pspt.PENUMBRA, np.uint8)
    codes[0] = pspt.QUIET_SUN
    codes[2, 2] = pspt.OFF_DISK
    mu = np.array([[0.1, 0.5, 0.9], [0.5, 0.5, 0.5], [0.5, 0.1, 0.0]], np.float32)
    np.testing.assert_array_equal(pspt.training_mask(codes, mu), [[pspt.UNLABELLED, 0, 0], [1, 1, 1], [1, pspt.UNLABELLED, 0]])


def test_a_local_cluster_starts_and_stops_without_log_lines(caplog):
    # Stages log at INFO; Dask logs its start and shutdown there, and a race at shutdown a traceback with it.
    caplog.set_level(logging.INFO)
    with tiles.dask_client(workers=1) as client:
        assert client.submit(sum, [1, 2]).result() == 3
    assert [record.getMessage() for record in caplog.records if record.name.startswith("distributed")] == []


@pytest.mark.parametrize("split, training", [("train", True), ("val", False)])
def test_streams_have_no_autotuning_thread_to_wait_for(good_tiles, split, training):
    # Deleting an iterator waits out its autotuning thread's sleep (up to a minute): Keras deletes the val
    # iterator every epoch, and training sat idle for 20 s in half of them.
    drawn = {"positive_fraction": 0.5, "shuffle": True} if training else {}
    ds = stream.make_dataset(good_tiles, split, "mask", 8, **drawn)
    assert ds.options().autotune.enabled is False
    assert next(iter(ds))[0].shape[1:] == (32, 32, 1)  # and it still streams
