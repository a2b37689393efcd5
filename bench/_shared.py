"""What the benchmarks share: a synthetic archive and the tile spec, both from params.yaml."""

from __future__ import annotations

import subprocess
import tempfile
import types
from pathlib import Path

import yaml

from sunspotter.acquire.synth.archive import SynthConfig, write_archive
from sunspotter.config import Params, Split
from sunspotter.dataset import tiles
from sunspotter.lifecycle import tracking


def synthetic_archive(params: Params, n: int, prefix: str) -> Path:
    """A temporary folder whose raw/ holds ``n`` synthetic observations at the params' size and filters."""
    acquire = params.acquire
    work = Path(tempfile.mkdtemp(prefix=prefix))
    write_archive(SynthConfig(params.base.seed, params.base.image_size, acquire.start_date, n, tuple(acquire.filters),
                              acquire.synthetic), work / "raw", progress=False)
    return work


def tile_spec(params: Params) -> tiles.TileSpec:
    tile = params.tile
    return tiles.TileSpec(params.base.tile_size, tile.stride, tile.min_disk_fraction, tuple(tile.channels),
                          tile.normalisation)


#: Benchmarks tile a few observations: one-date blocks and no gaps, so that every split gets some.
BENCH_SPLIT = Split(val=0.25, test=0.25, block_days=1, gap_days=0)


def tile_archive(params: Params, work: Path, client=None, out: str = "tiles"):
    """Tile ``work``/raw as the tile stage would (but for the split); return the index."""
    tile = params.tile
    return tiles.write_tiles(tiles.find_pairs(work / "raw", tile.channels), work / out, tile_spec(params),
                             split=BENCH_SPLIT, shards_per_split=tile.shards_per_split, seed=params.base.seed,
                             client=client, progress=False)


#: The commit whose models and training settings the speed benchmarks compare against (issue 16).
OLD_COMMIT = "44301f9"


def git_show(path: str, commit: str = OLD_COMMIT) -> str:
    return subprocess.run(["git", "show", f"{commit}:{path}"], check=True, capture_output=True, text=True,
                          cwd=tracking.repo_root()).stdout


def old_builder(kind: str):
    """``build_<kind>`` as it was at ``OLD_COMMIT``, compiled from its source there (not kept in the tree)."""
    path = f"src/sunspotter/models/{kind}.py"
    module = types.ModuleType(f"old_{kind}")
    exec(compile(git_show(path), f"{OLD_COMMIT}:{path}", "exec"), module.__dict__)
    return getattr(module, f"build_{kind}")


def old_settings(kind: str) -> dict:
    """``train.<kind>`` of params.yaml at ``OLD_COMMIT``."""
    return yaml.safe_load(git_show("params.yaml"))["train"][kind]
