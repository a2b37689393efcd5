"""How fast is full-disk inference, against the localizer of commit 44301f9? One 2048 x 2048 image, in one run.

Synthesises one observation at the params' size, then times `FullDiskModel.mask` on the whole image as the
pipeline configures it (flattening, overlapping tiles over the disk, blending, threshold, dust veto with the
pipeline's dust map when there is one, edge refinement with params' full_disk cuts), each time on a fresh
copy of the image so that its flattening is timed too, with two networks in alternating repeats:
- old: the 44301f9 localizer (its builder and filters read from git at that commit) at that commit's
  overlap of 32 px, untrained and silenced (it calls no pixel: what comes after the network costs it
  nothing, so the comparison favours the old);
- new: models/localizer.keras when the pipeline has trained one (else the working tree's builder, untrained
  and silenced) at `full_disk.overlap`.
The network's weights do not change its speed. It prints the best of R repeats of each, the tiles run, each network's bare
rate on batches held in memory and its share of the time, and the ratio new / old (target <= 0.5).

    .venv/bin/python bench/full_disk_speed.py [R, default 3]
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from _shared import OLD_COMMIT, old_builder, old_settings, synthetic_archive

from sunspotter import paths
from sunspotter.config import load_params
from sunspotter.fulldisk.inference import PREDICT_BATCH, FullDiskModel
from sunspotter.solar import dust_map
from sunspotter.solar.solar_image import read_solar_image

#: The tiles' overlap at 44301f9: a quarter tile.
OLD_OVERLAP = 32


def silenced(model):
    """``model`` with its output layer's weights zeroed and its bias very negative: it calls no pixel, so the
    steps after the network (dust veto, edge refinement) cost it nothing. An untrained network would call
    noise everywhere and time those steps on a mask no trained model gives."""
    output = model.layers[-1]
    kernel, bias = output.get_weights()
    output.set_weights([kernel * 0, bias * 0 - 20.0])
    return model


def networks(params) -> dict:
    import keras

    from sunspotter.models.kinds import LOCALIZER

    size = params.base.tile_size
    old = silenced(old_builder("localizer")(size, list(old_settings("localizer")["filters"]), 1))
    if paths.model_file("localizer").exists():
        new, source = keras.saving.load_model(paths.model_file("localizer"), compile=False), "models/localizer.keras"
    else:
        new = silenced(LOCALIZER.build(size, list(params.train["localizer"].filters), 1))
        source = "untrained, silenced"
    return {f"old ({OLD_COMMIT})": old, f"new ({source})": new}


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
        dust = dust_map.read(paths.DUST_MAP) if paths.DUST_MAP.exists() else None
        settings = dataclasses.asdict(params.full_disk)
        (old_name, old), (new_name, new) = networks(params).items()
        models = {old_name: FullDiskModel(old, threshold=0.5, arcsec_per_px=image.arcsec_per_px,
                                          tile_size=params.base.tile_size, dust_map=dust,
                                          **settings | {"overlap": OLD_OVERLAP}),
                  new_name: FullDiskModel(new, threshold=0.5, arcsec_per_px=image.arcsec_per_px,
                                          tile_size=params.base.tile_size, dust_map=dust, **settings)}
        per_tile = {name: seconds_per_tile(model.keras_model, params.base.tile_size) for name, model in models.items()}
        times = {name: [] for name in models}
        for model in models.values():
            model.mask(dataclasses.replace(image))  # warm-up
        for _ in range(repeats):
            for name, model in models.items():
                fresh = dataclasses.replace(image)  # nothing computed yet: the flattening is timed too
                start = time.perf_counter()
                model.mask(fresh)
                times[name].append(time.perf_counter() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"dust map: {'data/dust_map.fits.gz' if dust else 'none'}; image {image.data.shape[0]} x "
          f"{image.data.shape[1]}, disk radius {image.disk.radius:.0f} px")
    best = {name: min(values) for name, values in times.items()}
    for name, model in models.items():
        print(f"{name}: {best[name]:.2f} s (best of {repeats}; all: {', '.join(f'{t:.2f}' for t in times[name])}), "
              f"{model.tiles_run} tiles at {per_tile[name] * 1e3:.2f} ms each (network share "
              f"{model.tiles_run * per_tile[name] / best[name]:.2f})")
    old, new = best.values()
    print(f"new / old: {new / old:.2f} (target <= 0.5: {'met' if new / old <= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
