"""What does training cost now, against the models and settings of commit 44301f9? Measured in one run.

Synthesises N observations at the params' size and tiles them; then for each model, old and new, times
training steps on those tiles through the training stream as `train` builds it (oversampled, augmented,
batched), after a warm-up, in alternating rounds so that a noisy machine moves both alike. The old
builders and `train.<model>` settings are read from git at 44301f9 (nothing of them is in the tree); the
new ones are the working tree's.

The cost of a model is its whole fit as the pipeline runs it: seconds per step measured here times the
steps its pipeline fit ran, epochs run (patience included) x steps per epoch.
- new: `epochs_run` of the newest `train-<model>` run in the project's MLflow store (`dvc repro` first)
  x `train.<model>.steps_per_epoch`;
- old: the 44301f9 pipeline's fit, which this store does not hold: ``OLD_FIT`` below (an epoch was then
  the train split's tiles over the batch size); ``--old-tracking-uri URI`` reads `epochs_run` from a
  store that has a 44301f9 run instead.
It prints per model and for both together the cost ratio new / old (target <= 0.25), with absolute
seconds and the CPU model beside it.

    .venv/bin/python bench/train_speed.py [N, default 6] [--steps S, default 20] [--old-tracking-uri URI]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import keras
from _machine import cpu_model
from _shared import OLD_COMMIT, old_builder, old_settings, synthetic_archive, tile_archive

from sunspotter.config import TrainModel, load_params
from sunspotter.dataset import stream
from sunspotter.dataset.augment import Augmentation
from sunspotter.lifecycle import tracking
from sunspotter.models.compiling import compile_model
from sunspotter.models.kinds import KINDS

#: The 44301f9 pipeline's fits (`dvc repro` of 2026-11-26, 36 days, 4448 train tiles): epochs run and steps
#: per epoch. The classifier ran all 30 epochs (best epoch 26, patience 8); the localizer stopped after 16
#: (best epoch 11, patience 4); 139 and 278 steps are 4448 tiles over batches of 32 and 16.
OLD_FIT = {"classifier": (30, 139), "localizer": (16, 278)}
WARM_UP_STEPS = 3
ROUNDS = 3


def new_epochs_run(kind: str, uri: str | None = None) -> int:
    """``epochs_run`` of the newest finished train-<kind> run in the tracking store (a run cut short, by a
    Ctrl-C or a killed job, stays RUNNING and has none)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri or tracking.tracking_uri())
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    finished = f"attributes.run_name = 'train-{kind}' and attributes.status = 'FINISHED'"
    runs = client.search_runs([experiment.experiment_id], finished,
                              order_by=["attributes.start_time DESC"], max_results=1) if experiment else []
    if not runs or "epochs_run" not in runs[0].data.metrics:
        raise SystemExit(f"no train-{kind} run with epochs_run in {client.tracking_uri}: run `dvc repro` first")
    return int(runs[0].data.metrics["epochs_run"])


class Trainer:
    """One model with its settings, stepping through its own training stream."""

    def __init__(self, kind: str, build, settings: dict, tiles_dir: Path, tile_size: int):
        keras.utils.set_random_seed(0)
        self.batch_size = settings["batch_size"]
        self.model = compile_model(KINDS[kind], build(tile_size, list(settings["filters"]), 1),
                                   settings["learning_rate"], settings["focal_gamma"],
                                   settings.get("small_spot_weight", 0.0))  # 44301f9 had none
        batches = stream.make_dataset(tiles_dir, "train", KINDS[kind].target, self.batch_size, shuffle=True, seed=0,
                                      positive_fraction=settings["positive_fraction"],
                                      hard_negative_fraction=settings["hard_negative_fraction"],
                                      augmentation=Augmentation.of(settings))
        self.batches = iter(batches)
        self.times: list[float] = []
        self.steps(WARM_UP_STEPS)  # graph tracing and the stream's caches are one-offs

    def steps(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            self.model.train_on_batch(*next(self.batches))
        return (time.perf_counter() - start) / n

    def timed(self, n: int) -> None:
        self.times.append(self.steps(n))


def main(n: int, steps: int, old_uri: str | None) -> None:
    params = load_params()
    work = synthetic_archive(params, n, "bench-train-")
    try:
        tile_archive(params, work)
        size = params.base.tile_size
        trainers = {}
        for kind in KINDS:
            new = {field: getattr(params.train[kind], field) for field in TrainModel.__dataclass_fields__}
            trainers[kind, "old"] = Trainer(kind, old_builder(kind), old_settings(kind), work / "tiles", size)
            trainers[kind, "new"] = Trainer(kind, KINDS[kind].build, new, work / "tiles", size)
        for _ in range(ROUNDS):
            for trainer in trainers.values():
                trainer.timed(steps)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"old: {OLD_COMMIT}'s builders and train settings; new: the working tree's")
    print(f"CPU: {cpu_model()}; {n} observations tiled, {ROUNDS} rounds of {steps} steps per model "
          f"(median of the rounds), warm-up {WARM_UP_STEPS} steps")
    print(f"{'model':10s} {'':4s} {'s/step':>7s} {'batch':>5s} {'epochs x steps':>15s} {'fit (s)':>8s}")
    totals = {"old": 0.0, "new": 0.0}
    for kind in KINDS:
        fits = {"old": (new_epochs_run(kind, old_uri), OLD_FIT[kind][1]) if old_uri else OLD_FIT[kind],
                "new": (new_epochs_run(kind), params.train[kind].steps_per_epoch)}
        cost = {}
        for version in ("old", "new"):
            trainer = trainers[kind, version]
            per_step = sorted(trainer.times)[len(trainer.times) // 2]
            epochs, per_epoch = fits[version]
            cost[version] = per_step * epochs * per_epoch
            totals[version] += cost[version]
            print(f"{kind:10s} {version:4s} {per_step:7.3f} {trainer.batch_size:5d} {epochs:6d} x {per_epoch:6d} "
                  f"{cost[version]:8.0f}")
        print(f"{kind:10s} cost new / old: {cost['new'] / cost['old']:.3f}")
    ratio = totals["new"] / totals["old"]
    print(f"both models: {totals['new']:.0f} s against {totals['old']:.0f} s, cost new / old {ratio:.3f} "
          f"(target <= 0.25: {'met' if ratio <= 0.25 else 'NOT met'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=6, help="observations to synthesise and tile")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per model and round")
    parser.add_argument("--old-tracking-uri", help="an MLflow store holding a train run of 44301f9")
    arguments = parser.parse_args()
    main(arguments.n, arguments.steps, arguments.old_tracking_uri)
