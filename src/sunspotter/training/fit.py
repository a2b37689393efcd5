"""The fit loop shared by both models: compile, stream tiles from the shards, fit, choose the threshold on val.

It knows nothing of MLflow: ``lifecycle.training_run`` hands it a per-epoch callback and logs what it returns."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from sunspotter.config import MONITORS, Params, as_run_params
from sunspotter.dataset import stream, tiles
from sunspotter.dataset.augment import Augmentation
from sunspotter.evaluation.tile_scores import SplitScores, score_split
from sunspotter.io import atomic
from sunspotter.models.compiling import compile_model, precision_policy
from sunspotter.models.kinds import ModelKind


def device_name() -> str:
    """'GPU x<n>' when TensorFlow sees GPUs, else 'CPU': logged with the run so comparisons are fair."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU x{len(gpus)}" if gpus else "CPU"


def strategy_for(devices: list[str]):
    """Mirror the model over several devices (one replica each); one device or none uses the default strategy."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices) if len(devices) > 1 else tf.distribute.get_strategy()


def learning_rate_schedule(peak: float, total_steps: int):
    """A short linear warm-up to ``peak``, then a cosine decay to zero at the last step of the last epoch.

    Against a constant rate halved on plateaus, this settles in a fixed and small number of steps: the
    late epochs at a low rate are where the best val metric comes, so the run ends on time and
    repeatably instead of waiting out plateaus."""
    warm_up = max(1, total_steps // 20)
    return keras.optimizers.schedules.CosineDecay(0.0, decay_steps=max(1, total_steps - warm_up),
                                                  warmup_target=peak, warmup_steps=warm_up)


def metric_name(keras_name: str) -> str:
    """Keras says ``auc`` and ``val_auc``; runs say ``train_auc`` and ``val_auc`` so the UI lines them up."""
    return keras_name if keras_name.startswith("val_") or keras_name == "learning_rate" else f"train_{keras_name}"


@dataclass
class Trained:
    """What one fit produced: the inference model, its curves, and the threshold chosen on val."""

    model: keras.Model
    curves: dict[str, list[float]]
    best_epoch: int
    threshold: float
    val_f1: float
    val: SplitScores
    run_params: dict  # settings and devices, as logged with the run
    meta: tiles.TileMeta  # channels and normalisation travel with the model

    @property
    def epochs_run(self) -> int:
        return len(self.curves["val_loss"])

    @property
    def metrics(self) -> dict[str, float]:
        """The best epoch's figures, the threshold and how long the fit ran."""
        return ({k: v[self.best_epoch] for k, v in self.curves.items()}
                | {"threshold": self.threshold, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run})


def train(kind: ModelKind, params: Params, tiles_dir: Path, out_dir: Path, *, callbacks: tuple = (),
          progress: bool | None = None) -> Trained:
    """Train one model on the train split with early stopping on its monitored val metric (best weights restored),
    choose its decision threshold on the val split and save it to ``out_dir/<kind name>.keras``.

    ``callbacks`` are Keras callbacks added to the fit (the MLflow epoch logger, from ``lifecycle``).
    """
    import tensorflow as tf

    settings = params.train[kind.name]
    keras.utils.set_random_seed(params.base.seed)
    meta = tiles.read_meta(tiles_dir)
    tile_size, channels = meta.tile_size, len(meta.channels)
    index = tiles.read_index(tiles_dir)
    train_labels = index.loc[index["split"] == "train", "label"]
    # Oversampling needs both classes in the split (a tiny test config may have no spot at all).
    oversample = 0 < train_labels.sum() < len(train_labels)
    train_ds = stream.make_dataset(tiles_dir, "train", kind.target, settings.batch_size, shuffle=True, seed=params.base.seed,
                                  positive_fraction=settings.positive_fraction if oversample else None,
                                  hard_negative_fraction=settings.hard_negative_fraction,
                                  augmentation=Augmentation.of(asdict(settings)))
    val_ds = stream.make_dataset(tiles_dir, "val", kind.target, settings.batch_size)

    def build():
        return kind.build(tile_size, list(settings.filters), channels)

    gpus = [device.name.replace("physical_device:", "") for device in tf.config.list_physical_devices("GPU")]
    policy = precision_policy(bool(gpus))
    keras.mixed_precision.set_global_policy(policy)
    strategy = strategy_for(gpus)
    # One epoch is a fixed number of batches: the cost of training no longer grows with the archive, and
    # sunspot tiles and hard negatives are drawn to their shares however many clear tiles there are.
    steps = settings.steps_per_epoch
    with strategy.scope():
        model = compile_model(kind, build(), learning_rate_schedule(settings.learning_rate, settings.epochs * steps),
                              settings.focal_gamma, settings.small_spot_weight)
    run_params = (as_run_params(f"train.{kind.name}", settings) | as_run_params("base", params.base, only=("seed",))
                  | {"base.tile_size": tile_size,  # the tiles' own, as trained on
                     "device": device_name(), "precision_policy": policy, "replicas": strategy.num_replicas_in_sync})
    show_bar = sys.stdout.isatty() if progress is None else progress
    monitor = settings.monitor
    mode = "max" if MONITORS[kind.name][monitor] else "min"
    callbacks = [keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=settings.patience,
                                               restore_best_weights=True),
                 *callbacks]
    # Without oversampling (a split of one class) the stream is finite: repeat it to fill the epochs.
    train_ds = train_ds if oversample else train_ds.repeat()
    history = model.fit(train_ds, validation_data=val_ds, epochs=settings.epochs, steps_per_epoch=steps,
                        callbacks=callbacks, verbose=1 if show_bar else 2)
    curves = {metric_name(k): [float(x) for x in v] for k, v in history.history.items() if k != "learning_rate"}
    best_epoch = int(np.argmin(curves[monitor]) if mode == "min" else np.argmax(curves[monitor]))

    # Saved and logged in float32 without optimizer or custom loss, so it loads anywhere for inference.
    keras.mixed_precision.set_global_policy("float32")
    network = build()
    network.set_weights(model.get_weights())
    final = kind.for_inference(network)
    val = score_split(final, kind, tiles_dir, "val")
    threshold, val_f1 = val.best_threshold(kind)
    save_atomically(final, out_dir / f"{kind.name}.keras")
    return Trained(final, curves, best_epoch, threshold, val_f1, val, run_params, meta)


def save_atomically(model, path: Path) -> None:
    """Save under a temporary name, then rename: a killed run never leaves a half-written model."""
    with atomic.replacing(path) as temporary:
        model.save(temporary)
