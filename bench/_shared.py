"""What the benchmarks share: a synthetic archive and the tile spec, both from params.yaml."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sunspotter import tiles
from sunspotter.config import Params
from sunspotter.synth.archive import SynthConfig, write_archive


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
