"""The fit loop shared by both models: compile, stream tiles from the shards, log every epoch to MLflow."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path

import keras
import mlflow
import numpy as np

from sunspotter import tiles, tracking
from sunspotter.augment import Augmentation
from sunspotter.config import MONITORS, Params
from sunspotter.evaluation import SplitScores, score_split


def device_name() -> str:
    """'GPU x<n>' when TensorFlow sees GPUs, else 'CPU': logged with the run so comparisons are fair."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU x{len(gpus)}" if gpus else "CPU"


def strategy_for(devices: list[str]):
    """Mirror the model over several devices (one replica each); one device or none uses the default strategy."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices) if len(devices) > 1 else tf.distribute.get_strategy()


def precision_policy(on_gpu: bool) -> str:
    """Mixed precision where the hardware has fast float16 (GPUs); plain float32 on CPUs, where it is slower."""
    return "mixed_float16" if on_gpu else "float32"


def learning_rate_schedule(peak: float, total_steps: int):
    """A short linear warm-up to ``peak``, then a cosine decay to zero at the last step of the last epoch.

    Against a constant rate halved on plateaus, this settles in a fixed and small number of steps: the
    late epochs at a low rate are where the best val metric comes, so the run ends on time and
    repeatably instead of waiting out plateaus."""
    warm_up = max(1, total_steps // 20)
    return keras.optimizers.schedules.CosineDecay(0.0, decay_steps=max(1, total_steps - warm_up),
                                                  warmup_target=peak, warmup_steps=warm_up)


def compile_model(kind: str, model, learning_rate, focal_gamma: float = 0.0):
    """Compile for training; ``learning_rate`` is a number or a Keras schedule."""
    from sunspotter.models.losses import DiceCrossEntropy, DiceScore, cross_entropy

    optimizer = keras.optimizers.Adam(learning_rate)
    if kind == "classifier":
        model.compile(optimizer=optimizer, loss=cross_entropy(focal_gamma),
                      metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc"),
                               keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")])
    else:
        model.compile(optimizer=optimizer, loss=DiceCrossEntropy(focal_gamma), metrics=[DiceScore(name="dice")])
    return model


def metric_name(keras_name: str) -> str:
    """Keras says ``auc`` and ``val_auc``; runs say ``train_auc`` and ``val_auc`` so the UI lines them up."""
    return keras_name if keras_name.startswith("val_") or keras_name == "learning_rate" else f"train_{keras_name}"


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs every train and validation metric, and the learning rate reached, once per epoch into the active
    MLflow run."""

    def on_epoch_end(self, epoch, logs=None):
        rate = {"learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))}
        mlflow.log_metrics({metric_name(k): float(v) for k, v in (logs or {}).items()} | rate, step=epoch)


def train(kind: str, params: Params, tiles_dir: Path, out_dir: Path, *, progress: bool | None = None) -> dict:
    """Train one model on the train split with early stopping on its monitored val metric (best weights restored),
    choose its decision threshold on the val split, save it; return metrics, history, threshold and model URI.

    The caller holds the MLflow run; this logs params, per-epoch metrics, figures and the model into it.
    """
    import tensorflow as tf

    from sunspotter.models import BUILDERS, for_inference

    settings = params.train[kind]
    keras.utils.set_random_seed(params.base.seed)
    meta = tiles.read_meta(tiles_dir)
    tile_size, channels = meta["tile_size"], len(meta["channels"])
    index = tiles.read_index(tiles_dir)
    train_labels = index.loc[index["split"] == "train", "label"]
    # Oversampling needs both classes in the split (a tiny test config may have no spot at all).
    oversample = 0 < train_labels.sum() < len(train_labels)
    train_ds = tiles.make_dataset(tiles_dir, "train", kind, settings.batch_size, shuffle=True, seed=params.base.seed,
                                  positive_fraction=settings.positive_fraction if oversample else None,
                                  hard_negative_fraction=settings.hard_negative_fraction,
                                  augmentation=Augmentation.of(asdict(settings)))
    val_ds = tiles.make_dataset(tiles_dir, "val", kind, settings.batch_size)

    def build():
        return BUILDERS[kind](tile_size, list(settings.filters), channels)

    gpus = [device.name.replace("physical_device:", "") for device in tf.config.list_physical_devices("GPU")]
    policy = precision_policy(bool(gpus))
    keras.mixed_precision.set_global_policy(policy)
    strategy = strategy_for(gpus)
    # One epoch is a fixed number of batches: the cost of training no longer grows with the archive, and
    # sunspot tiles and hard negatives are drawn to their shares however many clear tiles there are.
    steps = settings.steps_per_epoch
    with strategy.scope():
        model = compile_model(kind, build(), learning_rate_schedule(settings.learning_rate, settings.epochs * steps),
                              settings.focal_gamma)
    mlflow.log_params({f"train.{kind}.{k}": v for k, v in asdict(settings).items()}
                      | {"base.seed": params.base.seed, "base.tile_size": tile_size, "device": device_name(),
                         "precision_policy": policy, "replicas": strategy.num_replicas_in_sync})
    show_bar = sys.stdout.isatty() if progress is None else progress
    monitor = settings.monitor
    mode = "max" if MONITORS[kind][monitor] else "min"
    callbacks = [keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=settings.patience,
                                               restore_best_weights=True),
                 MlflowEpochLogger()]
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
    final = for_inference(kind, network)
    val = score_split(final, kind, tiles_dir, "val")
    threshold, val_f1 = val.best_threshold(kind)
    mlflow.log_metrics({"best_epoch": best_epoch, "epochs_run": len(curves["val_loss"]), "threshold": threshold,
                        "val_f1_at_threshold": val_f1})
    log_figures(kind, "val", val, threshold, curves, best_epoch)

    save_atomically(final, out_dir / f"{kind}.keras")
    example = np.zeros((1, tile_size, tile_size, channels), np.float32)
    signature = mlflow.models.infer_signature(example, final.predict(example, verbose=0))
    info = mlflow.tensorflow.log_model(final, name=kind, signature=signature, input_example=example,
                                       metadata={"threshold": threshold, "channels": meta["channels"],
                                                 "normalisation": meta["normalisation"]})
    return {"metrics": {k: v[best_epoch] for k, v in curves.items()}
                       | {"threshold": threshold, "best_epoch": best_epoch, "epochs_run": len(curves["val_loss"])},
            "history": curves, "threshold": threshold, "model_uri": info.model_uri}


def log_figures(kind: str, split: str, scores: SplitScores, threshold: float, curves: dict | None = None,
                best_epoch: int | None = None, run_id: str | None = None) -> None:
    """Learning curves (when given), PR curve, confusion matrix and example tiles of ``split`` as run artifacts."""
    from sunspotter import plots

    unit = "tiles" if kind == "classifier" else "pixels"
    figures = {
        f"{split}_pr_curve.png": plots.pr_curve(scores.histogram.pr_curve(), threshold, f"{kind}, {split} {unit}"),
        f"{split}_confusion.png": plots.confusion_matrix(scores.counts_at(kind, threshold),
                                                         f"{kind}, {split} {unit}"),
    }
    if scores.examples:
        images, truths, probabilities, titles = zip(*scores.examples)
        guesses = [None if p is None else p >= threshold for p in probabilities]
        figures[f"{split}_tiles.png"] = plots.tile_overlays(np.stack(images), truths, guesses, list(titles))
    if curves:
        figures["learning_curves.png"] = plots.learning_curves(curves, best_epoch)
    for name, figure in figures.items():
        if run_id:
            tracking.client().log_figure(run_id, figure, f"figures/{name}")
        else:
            mlflow.log_figure(figure, f"figures/{name}")
        plots.plt.close(figure)


def save_atomically(model, path: Path) -> None:
    """Save under a temporary name, then rename: a killed run never leaves a half-written model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp{path.suffix}")
    model.save(temporary)
    os.replace(temporary, path)
