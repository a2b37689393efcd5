"""A training run as MLflow sees it: the fit loop of ``training`` with an epoch logger handed in, then its
params, figures and model logged into the caller's run."""

from __future__ import annotations

from pathlib import Path

import keras
import mlflow
import numpy as np

from sunspotter.config import Params
from sunspotter.lifecycle.run_figures import log_figures
from sunspotter.models.kinds import ModelKind
from sunspotter.training.fit import metric_name, train


class MlflowEpochLogger(keras.callbacks.Callback):
    """Logs every train and validation metric, and the learning rate reached, once per epoch into the active
    MLflow run."""

    def on_epoch_end(self, epoch, logs=None):
        rate = {"learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))}
        mlflow.log_metrics({metric_name(k): float(v) for k, v in (logs or {}).items()} | rate, step=epoch)


def train_and_log(kind: ModelKind, params: Params, tiles_dir: Path, out_dir: Path, *, progress: bool | None = None) -> dict:
    """``training.fit.train`` inside the caller's MLflow run: per-epoch metrics as it fits, then its params,
    figures and model; return metrics, history, threshold and model URI."""
    trained = train(kind, params, tiles_dir, out_dir, callbacks=(MlflowEpochLogger(),), progress=progress)
    mlflow.log_params(trained.run_params)
    mlflow.log_metrics({"best_epoch": trained.best_epoch, "epochs_run": trained.epochs_run,
                        "threshold": trained.threshold, "val_f1_at_threshold": trained.val_f1})
    log_figures(kind, "val", trained.val, trained.threshold, trained.curves, trained.best_epoch)
    tile_size, channels = trained.meta.tile_size, len(trained.meta.channels)
    example = np.zeros((1, tile_size, tile_size, channels), np.float32)
    signature = mlflow.models.infer_signature(example, trained.model.predict(example, verbose=0))
    info = mlflow.tensorflow.log_model(trained.model, name=kind.name, signature=signature, input_example=example,
                                       metadata={"threshold": trained.threshold, "channels": trained.meta.channels,
                                                 "normalisation": trained.meta.normalisation})
    return {"metrics": trained.metrics, "history": trained.curves, "threshold": trained.threshold,
            "model_uri": info.model_uri}
