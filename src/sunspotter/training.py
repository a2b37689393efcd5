"""The fit loop shared by both models: compile, stream tiles from the shards, log every epoch to MLflow."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path

import keras
import mlflow
import numpy as np

from sunspotter import tiles
from sunspotter.config import Params


def device_name() -> str:
    """'GPU' when TensorFlow sees one, else 'CPU': logged with the run so comparisons are fair."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU x{len(gpus)}" if gpus else "CPU"


def compile_model(kind: str, model, learning_rate: float):
    from sunspotter.models.losses import DiceScore, dice_bce_loss

    optimizer = keras.optimizers.Adam(learning_rate)
    if kind == "classifier":
        model.compile(optimizer=optimizer, loss="binary_crossentropy",
                      metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc"),
                               keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")])
    else:
        model.compile(optimizer=optimizer, loss=dice_bce_loss, metrics=[DiceScore(name="dice")])
    return model


def metric_name(keras_name: str) -> str:
    """Keras says ``auc`` and ``val_auc``; runs say ``train_auc`` and ``val_auc`` so the UI lines them up."""
    return keras_name if keras_name.startswith("val_") else f"train_{keras_name}"


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs every train and validation metric once per epoch into the active MLflow run."""

    def on_epoch_end(self, epoch, logs=None):
        mlflow.log_metrics({metric_name(k): float(v) for k, v in (logs or {}).items()}, step=epoch)


def train(kind: str, params: Params, tiles_dir: Path, out_dir: Path, *, progress: bool | None = None) -> dict:
    """Train one model on the train split, validate on val; return the final metrics and the history.

    The caller holds the MLflow run; this logs params, per-epoch metrics and the model into it.
    """
    from sunspotter.models import BUILDERS

    settings = params.train[kind]
    keras.utils.set_random_seed(params.base.seed)
    meta = tiles.read_meta(tiles_dir)
    tile_size, channels = meta["tile_size"], len(meta["channels"])
    index = tiles.read_index(tiles_dir)
    train_labels = index.loc[index["split"] == "train", "label"]
    # Oversampling needs both classes in the split (a tiny test config may have no spot at all).
    oversample = 0 < train_labels.sum() < len(train_labels)
    train_ds = tiles.make_dataset(tiles_dir, "train", kind, settings.batch_size, shuffle=True, seed=params.base.seed,
                                  positive_fraction=settings.positive_fraction if oversample else None)
    val_ds = tiles.make_dataset(tiles_dir, "val", kind, settings.batch_size)

    def build():
        return BUILDERS[kind](tile_size, list(settings.filters), channels)

    model = compile_model(kind, build(), settings.learning_rate)
    mlflow.log_params({f"train.{kind}.{k}": v for k, v in asdict(settings).items()}
                      | {"base.seed": params.base.seed, "base.tile_size": tile_size, "device": device_name()})
    show_bar = sys.stdout.isatty() if progress is None else progress
    # One epoch still means as many tiles as the training split holds.
    steps = -(-len(train_labels) // settings.batch_size) if oversample else None
    history = model.fit(train_ds, validation_data=val_ds, epochs=settings.epochs, steps_per_epoch=steps,
                        callbacks=[MlflowEpochLogger()], verbose=1 if show_bar else 2)

    # Saved and logged without optimizer or custom loss, so it loads anywhere for inference.
    final = build()
    final.set_weights(model.get_weights())
    save_atomically(final, out_dir / f"{kind}.keras")
    example = np.zeros((1, tile_size, tile_size, channels), np.float32)
    signature = mlflow.models.infer_signature(example, final.predict(example, verbose=0))
    info = mlflow.tensorflow.log_model(final, name=kind, signature=signature, input_example=example)
    curves = {metric_name(k): [float(x) for x in v] for k, v in history.history.items()}
    return {"metrics": {k: v[-1] for k, v in curves.items()}, "history": curves, "model_uri": info.model_uri}


def save_atomically(model, path: Path) -> None:
    """Save under a temporary name, then rename: a killed run never leaves a half-written model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.tmp{path.suffix}")
    model.save(temporary)
    os.replace(temporary, path)
