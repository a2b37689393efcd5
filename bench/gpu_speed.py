"""Both models on whatever Keras backend and device are at hand: training step time and full-disk tile throughput.

Written for issue 16 item 7: the lent GPU machine has JAX and CUDA but no TensorFlow, so this script uses
Keras alone, with the project's own builders (`ModelKind.build`), compilation (`models.compiling`) and
`params.yaml` settings (filters, batch sizes, learning rates, tile size). Tiles are generated here, not
read from the shards (reading them needs TensorFlow): a quiet-Sun level with 1 % noise and dark round
spots, the mask marking the spots; step time does not depend on what the pixels hold.

For each model it times `train_on_batch` over ``--steps`` batches after a warm-up (the first calls compile),
best of ``--rounds``; then the localizer's `predict_on_batch` over the tiles of one 2048 x 2048 disk
(``--disk-tiles``, 292 at the default 16-px overlap, `docs/decisions.md`) in batches of `PREDICT_BATCH`, as
`FullDiskModel` runs them. Mixed precision by default (``--precision``, the policy the pipeline's fit uses on
a GPU). Prints a table and writes JSON (``--out``).

    KERAS_BACKEND=jax python bench/gpu_speed.py [--steps 50] [--rounds 3] [--out gpu_speed.json]

bench/README.md says how to carry Keras to the GPU machine and holds the figures.
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np
from _machine import cpu_model

from sunspotter.config import load_params
from sunspotter.fulldisk.inference import PREDICT_BATCH
from sunspotter.models.compiling import compile_model, precision_policy
from sunspotter.models.kinds import CLASSIFIER, KINDS, LOCALIZER

WARM_UP_STEPS = 3
#: Tiles of one 2048 x 2048 PSPT disk at the default overlap: what full-disk inference runs per image.
DISK_TILES = 292


def generated_tiles(n: int, size: int, channels: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` tiles near the quiet-Sun level (1 % noise) with one to three dark round spots each, and their masks."""
    rng = np.random.default_rng(seed)
    images = (1.0 + 0.01 * rng.standard_normal((n, size, size, channels))).astype(np.float32)
    masks = np.zeros((n, size, size, 1), np.float32)
    rows, cols = np.mgrid[:size, :size]
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            y, x, radius = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(2, 12)
            spot = (rows - y) ** 2 + (cols - x) ** 2 <= radius**2
            images[i][spot] *= 0.4
            masks[i][spot] = 1.0
    return images, masks


def device() -> str:
    """What the backend computes on, in words."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        first = jax.devices()[0]
        return f"jax {first.platform}: {getattr(first, 'device_kind', first)} x{len(jax.devices())}"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"tensorflow: GPU x{len(gpus)}" if gpus else f"tensorflow: CPU ({cpu_model()})"
    if backend == "torch":
        import torch

        return f"torch: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "torch: CPU"
    return backend


def best_seconds(call, repeats: int, rounds: int) -> float:
    """The fastest of ``rounds`` timings of ``repeats`` calls, per call. `train_on_batch` and `predict_on_batch`
    hand back host values, so each call has finished on the device when it returns."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        times.append((time.perf_counter() - start) / repeats)
    return min(times)


def train_step_seconds(kind, params, images, masks, steps: int, rounds: int) -> float:
    settings = params.train[kind.name]
    model = compile_model(kind, kind.build(params.base.tile_size, list(settings.filters), images.shape[-1]),
                          settings.learning_rate)
    batch = slice(0, settings.batch_size)
    target = masks[batch] if not kind.per_tile else masks[batch].max(axis=(1, 2, 3))[:, None]
    for _ in range(WARM_UP_STEPS):
        model.train_on_batch(images[batch], target)
    return best_seconds(lambda: model.train_on_batch(images[batch], target), steps, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50, help="training steps per timing round")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, the best kept")
    parser.add_argument("--disk-tiles", type=int, default=DISK_TILES, help="tiles of one full-disk image")
    parser.add_argument("--precision", default=precision_policy(on_gpu=True), help="Keras dtype policy")
    parser.add_argument("--out", default="", help="also write the figures to this JSON file")
    args = parser.parse_args()

    params = load_params()
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(params.base.seed)
    channels = len(params.tile.channels)
    batch = max(params.train[name].batch_size for name in KINDS)
    disk_batches = -(-args.disk_tiles // PREDICT_BATCH)
    images, masks = generated_tiles(max(batch, disk_batches * PREDICT_BATCH), params.base.tile_size, channels)
    figures = {"backend": keras.backend.backend(), "device": device(), "precision": args.precision,
               "keras": keras.__version__, "tile_size": params.base.tile_size, "channels": channels}
    for kind in (CLASSIFIER, LOCALIZER):
        seconds = train_step_seconds(kind, params, images, masks, args.steps, args.rounds)
        size = params.train[kind.name].batch_size
        figures[kind.name] = {"batch_size": size, "train_step_ms": 1e3 * seconds, "train_tiles_per_s": size / seconds}
    localizer = LOCALIZER.build(params.base.tile_size, list(params.train[LOCALIZER.name].filters), channels)
    # As FullDiskModel runs a disk: whole batches of PREDICT_BATCH tiles (it pads the last one to the same shape).
    batches = [images[start:start + PREDICT_BATCH] for start in range(0, disk_batches * PREDICT_BATCH, PREDICT_BATCH)]
    localizer.predict_on_batch(batches[0])  # compiles
    seconds = best_seconds(lambda: [localizer.predict_on_batch(tiles) for tiles in batches], 3, args.rounds)
    figures["full_disk"] = {"tiles": args.disk_tiles, "seconds_per_disk": seconds, "tiles_per_s": args.disk_tiles / seconds}

    print(f"{figures['device']}, Keras {figures['keras']} on {figures['backend']}, {figures['precision']}")
    for kind in (CLASSIFIER, LOCALIZER):
        row = figures[kind.name]
        print(f"  {kind.name:10s} training: {row['train_step_ms']:8.2f} ms a step of {row['batch_size']} tiles "
              f"({row['train_tiles_per_s']:,.0f} tiles/s)")
    row = figures["full_disk"]
    print(f"  full disk  inference: {row['seconds_per_disk'] * 1e3:8.2f} ms for {row['tiles']} tiles "
          f"({row['tiles_per_s']:,.0f} tiles/s)")
    if args.out:
        with open(args.out, "w") as file:
            json.dump(figures, file, indent=2)


if __name__ == "__main__":
    main()
