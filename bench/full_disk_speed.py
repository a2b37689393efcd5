"""How fast is full-disk inference? One 2048 x 2048 image end to end, against the model's bare tile rate.

Synthesises one observation at the params' size, then times, in one run:
(a) the localizer alone on batches of tiles held in memory: seconds per tile;
(b) `FullDiskModel.mask` on the whole image as the pipeline configures it (flattening, overlapping tiles
    over the disk, blending, threshold, dust veto with the pipeline's dust map when there is one, edge
    refinement with params' full_disk cuts): seconds per image, best of R repeats after a warm-up, each
    on a fresh copy of the image so that its flattening is timed too.
It prints (b), the tiles (b) ran, and (b) over (tiles x (a)): the share of the time that is not the
network. The target is (b) <= 3 s on the 2-core CPU machine (<= 0.1 s on a GPU).

    .venv/bin/python bench/full_disk_speed.py [R, default 3]

It uses models/localizer.keras when the pipeline has trained one (weights do not change the speed),
else a freshly built localizer of the params' shape.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from _shared import synthetic_archive
from sunspotter import dust_map, paths
from sunspotter.config import load_params
from sunspotter.inference import PREDICT_BATCH, FullDiskModel
from sunspotter.solar_image import read_solar_image


def localizer(params):
    import keras

    from sunspotter.models import BUILDERS

    if paths.model_file("localizer").exists():
        return keras.saving.load_model(paths.model_file("localizer"), compile=False), "models/localizer.keras"
    settings = params.train["localizer"]
    return BUILDERS["localizer"](params.base.tile_size, list(settings.filters), 1), "untrained, params' shape"


def seconds_per_tile(model, tile_size: int, batches: int = 8) -> float:
    tiles = np.random.default_rng(0).normal(1.0, 0.05, (PREDICT_BATCH, tile_size, tile_size, 1)).astype(np.float32)
    model.predict_on_batch(tiles)
    start = time.perf_counter()
    for _ in range(batches):
        np.asarray(model.predict_on_batch(tiles))
    return (time.perf_counter() - start) / (batches * PREDICT_BATCH)


def main(repeats: int) -> None:
    params = load_params()
    work = synthetic_archive(params, 1, "bench-full-disk-")
    try:
        image = read_solar_image(next(Path(work / "raw").glob("*.HW.R.P.rdc.fits.gz")))
        network, source = localizer(params)
        dust = dust_map.read(paths.DUST_MAP) if paths.DUST_MAP.exists() else None
        model = FullDiskModel(network, threshold=0.5, arcsec_per_px=image.arcsec_per_px,
                              tile_size=params.base.tile_size, overlap=params.base.tile_size // 4,
                              dust_map=dust, edge_grow=params.full_disk.edge_grow,
                              edge_trim=params.full_disk.edge_trim)
        per_tile = seconds_per_tile(network, params.base.tile_size)
        model.mask(dataclasses.replace(image))  # warm-up
        times = []
        for _ in range(repeats):
            fresh = dataclasses.replace(image)  # nothing computed yet: the flattening is timed too
            start = time.perf_counter()
            model.mask(fresh)
            times.append(time.perf_counter() - start)
        tiles_run = model.tiles_run
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best = min(times)
    print(f"model: {source}; dust map: {'data/dust_map.fits.gz' if dust else 'none'}; "
          f"image {image.data.shape[0]} x {image.data.shape[1]}, disk radius {image.radius:.0f} px")
    print(f"(a) network alone: {per_tile * 1e3:.2f} ms per {params.base.tile_size}-px tile")
    print(f"(b) full-disk mask: {best:.2f} s (best of {repeats}; all: {', '.join(f'{t:.2f}' for t in times)}), "
          f"{tiles_run} tiles")
    print(f"    network share of (b): {tiles_run * per_tile / best:.2f}; target (b) <= 3 s: "
          f"{'met' if best <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
