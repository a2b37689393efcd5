"""How much of the pipeline's time goes into making the synthetic archive, measured in one run.

Synthesises N observations at the params' image size, tiles them, and times one training epoch
of each model over their tiles after a warm-up step; that epoch time, times the configured
epochs, is the training cost. Prints seconds per observation for each part and the synthesis share.

    .venv/bin/python bench/synth_share.py [N, default 5]
"""

from __future__ import annotations

import sys
import time

from _shared import synthetic_archive, tile_spec
from sunspotter import tiles
from sunspotter.config import MODEL_KINDS, load_params
from sunspotter.models import BUILDERS
from sunspotter.training import compile_model


def main(n: int) -> None:
    params = load_params()
    acquire = params.acquire
    start = time.perf_counter()
    work = synthetic_archive(params, n, "bench-synth-")
    synth = time.perf_counter() - start

    start = time.perf_counter()
    tile = params.tile
    index = tiles.write_tiles(tiles.find_pairs(work / "raw", tile.channels), work / "tiles", tile_spec(params),
                              split=tile.split, shards_per_split=1, seed=params.base.seed, progress=False)
    tiling = time.perf_counter() - start
    train_observations = index.loc[index["split"] == "train", "observation"].nunique()

    training = 0.0
    for kind in MODEL_KINDS:
        settings = params.train[kind]
        model = compile_model(kind, BUILDERS[kind](params.base.tile_size, list(settings.filters)),
                              settings.learning_rate, settings.focal_gamma)
        data = tiles.make_dataset(work / "tiles", "train", kind, settings.batch_size, shuffle=True)
        model.fit(data.take(1), verbose=0)  # warm-up: graph tracing is a one-off, not per epoch
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        training += (time.perf_counter() - start) * settings.epochs
    # Per observation of the archive: only the train split's share of observations is trained on.
    per_obs = {"synthesis": synth / n, "tiling": tiling / n,
               "training": training / train_observations * params.tile.split["train"]}
    total = sum(per_obs.values())
    print(f"image size {params.base.image_size}, {n} observations, filters {','.join(acquire.filters)}")
    for part, seconds in per_obs.items():
        print(f"  {part:10s} {seconds:7.2f} s per observation  ({seconds / total:5.1%})")
    print(f"synthesis share of synthesis + tiling + training: {per_obs['synthesis'] / total:.1%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
