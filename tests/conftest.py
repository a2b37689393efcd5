"""Shared fixtures: a tiny synthetic archive, made once per session (256 x 256 images)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sunspotter.acquire.synth.archive import SynthConfig, write_archive
from sunspotter.config import Split, Synthetic
from sunspotter.dataset import tiles

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
REPO = Path(__file__).resolve().parents[1]

#: Solar maximum and clear skies: small images that still hold spots on every day.
CLEAR_MAXIMUM = Synthetic(observation_time="1800", cycle_phase=1.0, dust_rate=0.0, cloud_rate=0.0, bad_seeing_rate=0.0)
#: A split for a handful of dates: one-date blocks, no gaps.
TINY_SPLIT = Split(val=0.25, test=0.25, block_days=1, gap_days=0)
TINY = SynthConfig(seed=7, image_size=256, start_date="2014-01-02", n_days=6, filters=("R", "K"),
                   settings=CLEAR_MAXIMUM)


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory) -> Path:
    """Six 256 x 256 observations with many spots; treat as read-only (copy it to break it)."""
    out = tmp_path_factory.mktemp("raw")
    write_archive(TINY, out, progress=False)
    return out


@pytest.fixture(scope="session")
def good_tiles(tiny_archive, tmp_path_factory) -> Path:
    """The tiny archive tiled (32 px, R, quiet Sun) into train/val/test shards; read-only."""
    out = tmp_path_factory.mktemp("tiles") / "tiles"
    spec = tiles.TileSpec(tile_size=32, stride=32, min_disk_fraction=0.0, channels=("R",), normalisation="quiet_sun")
    tiles.write_tiles(tiles.find_pairs(tiny_archive, ["R"]), out, spec,
                      split=TINY_SPLIT, shards_per_split=1, seed=0,
                      progress=False)
    return out
