"""Does the input pipeline keep up? tf.data's delivery rate against each model's training rate, in one run.

Synthesises N observations at the params' size, tiles them, then for each model times
(a) the training stream exactly as `train` builds it (shards read, parsed, oversampled, augmented,
    batched), iterated with no model: tiles per second delivered;
(b) training steps of the model on one batch held in memory (no input pipeline at all): tiles per
    second consumed.
The ratio (a) / (b) must be at least 3: the input never starves the model, nor an accelerator
several times faster than this machine.

    .venv/bin/python bench/input_speed.py [N, default 8]
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import asdict

import keras
import tensorflow as tf
from _shared import synthetic_archive, tile_archive

from sunspotter.config import load_params
from sunspotter.dataset import stream, tiles
from sunspotter.dataset.augment import Augmentation
from sunspotter.models.compiling import compile_model
from sunspotter.models.kinds import KINDS

WARM_UP_BATCHES = 5
TIMED_BATCHES = 60


def delivered_per_second(ds) -> float:
    iterator = iter(ds)
    for _ in range(WARM_UP_BATCHES):
        next(iterator)
    start, count = time.perf_counter(), 0
    for _ in range(TIMED_BATCHES):
        images, _ = next(iterator)
        count += int(images.shape[0])
    return count / (time.perf_counter() - start)


def consumed_per_second(model, batch) -> float:
    in_memory = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(in_memory, steps_per_epoch=WARM_UP_BATCHES, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(in_memory, steps_per_epoch=TIMED_BATCHES // 3, epochs=1, verbose=0)
    return (TIMED_BATCHES // 3) * int(batch[0].shape[0]) / (time.perf_counter() - start)


def main(n: int) -> None:
    params = load_params()
    work = synthetic_archive(params, n, "bench-input-")
    tile_archive(params, work)
    meta = tiles.read_meta(work / "tiles")
    print(f"{n} observations of {params.base.image_size} x {params.base.image_size}, tiles of "
          f"{params.base.tile_size}, {len(meta.channels)} channel(s); {TIMED_BATCHES} batches timed")
    for kind in KINDS:
        settings = params.train[kind]
        ds = stream.make_dataset(work / "tiles", "train", KINDS[kind].target, settings.batch_size, shuffle=True,
                                seed=params.base.seed, positive_fraction=settings.positive_fraction,
                                hard_negative_fraction=settings.hard_negative_fraction,
                                augmentation=Augmentation.of(asdict(settings)))
        delivered = delivered_per_second(ds)
        keras.utils.set_random_seed(params.base.seed)
        model = compile_model(KINDS[kind], KINDS[kind].build(params.base.tile_size, list(settings.filters),
                                                   len(meta.channels)), settings.learning_rate,
                              settings.focal_gamma, settings.small_spot_weight)
        consumed = consumed_per_second(model, next(iter(ds)))
        print(f"  {kind:10s} tf.data delivers {delivered:8.0f} tiles/s, training consumes {consumed:7.0f} tiles/s: "
              f"{delivered / consumed:5.1f} x")
    shutil.rmtree(work)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
