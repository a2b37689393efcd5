"""Tiling speed, measured in one run: against the bare cost of reading the pairs, and 1 vs 2 Dask workers.

Synthesises N observations at the params' size, then times (a) reading and decompressing every
image/mask pair, (b) the tile stage's work (read, normalise, cut, serialise, write shards) on a
local Dask cluster of 1 worker and of 2 workers, started (workers spawned, TensorFlow and astropy
imported) before the clock runs: that start-up is paid once per run, whatever the archive's size,
and is printed apart. Prints seconds per pair and the ratios.

    .venv/bin/python bench/tile_speed.py [N, default 12]
"""

from __future__ import annotations

import importlib
import shutil
import sys
import time

from _shared import BENCH_SPLIT, synthetic_archive, tile_spec

from sunspotter.config import load_params
from sunspotter.dataset import tiles
from sunspotter.io import pspt


def _import_tiling_modules() -> None:
    for module in ("tensorflow", "astropy.io.fits", "sunspotter.dataset.tiles", "sunspotter.solar.classical"):
        importlib.import_module(module)


def main(n: int) -> None:
    params = load_params()
    tile = params.tile
    work = synthetic_archive(params, n, "bench-tile-")
    pairs = tiles.find_pairs(work / "raw", tile.channels)
    spec = tile_spec(params)

    start = time.perf_counter()
    for pair in pairs:
        for path in (*pair.images, pair.mask):
            pspt.read_fits(path)
    read = (time.perf_counter() - start) / n

    per_pair, start_up = {}, {}
    for workers in (1, 2):
        start = time.perf_counter()
        with tiles.dask_client(workers=workers) as client:
            # Warm-up: each worker imports what a tiling task needs (TensorFlow, astropy, the project) once, when it
            # starts; that is start-up, like spawning the worker, not tiling, so it happens before the clock runs.
            client.run(_import_tiling_modules)
            start_up[workers] = time.perf_counter() - start
            start = time.perf_counter()
            tiles.write_tiles(pairs, work / f"tiles{workers}", spec, split=BENCH_SPLIT,
                              shards_per_split=tile.shards_per_split, seed=params.base.seed, client=client,
                              progress=False)
            per_pair[workers] = (time.perf_counter() - start) / n
    shutil.rmtree(work)
    print(f"{n} observations of {params.base.image_size} x {params.base.image_size}, channels "
          f"{'+'.join(tile.channels)}, normalisation {tile.normalisation}")
    print(f"  read + decompress:        {read:6.3f} s per pair")
    print(f"  tile stage, 1 worker:     {per_pair[1]:6.3f} s per pair  ({per_pair[1] / read:.2f} x reading)")
    print(f"  tile stage, 2 workers:    {per_pair[2]:6.3f} s per pair  ({per_pair[2] / read:.2f} x reading)")
    print(f"  speed-up, 2 vs 1 workers: {per_pair[1] / per_pair[2]:.2f} x")
    print(f"  (once per run, not timed above: starting the cluster and each worker's imports took "
          f"{start_up[1]:.1f} s with 1 worker, {start_up[2]:.1f} s with 2)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
