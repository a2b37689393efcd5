"""The shared fit loop: early stopping restores the best epoch, the threshold comes from val, figures are logged;
and the multi-device path (tf.distribute, mixed precision) trains."""

import os
import subprocess
import sys

import mlflow
import numpy as np
import pytest
import yaml

from sunspotter.config import load_params
from sunspotter.lifecycle.training_run import train_and_log
from sunspotter.models.kinds import LOCALIZER
from tests.conftest import REPO


@pytest.fixture
def tiny_params(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["base"].update(image_size=256, tile_size=32)
    params["tile"].update(stride=32)
    params["train"]["localizer"].update(epochs=4, steps_per_epoch=8, patience=1, batch_size=16, filters=[4, 8, 16])
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return load_params(path)


def test_localizer_training_logs_best_epoch_threshold_and_figures(good_tiles, tiny_params, tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("t", artifact_location=(tmp_path / "artifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment) as run:
        result = train_and_log(LOCALIZER, tiny_params, good_tiles, tmp_path / "models", progress=False)
    history = result["history"]
    best = int(np.argmax(history["val_dice"]))  # the localizer is chosen on pooled val Dice, not val_loss
    assert result["metrics"]["best_epoch"] == best
    assert result["metrics"]["val_dice"] == history["val_dice"][best]  # the restored epoch's figures
    assert len(history["val_dice"]) <= 4
    assert 0 <= result["threshold"] < 1
    client = mlflow.MlflowClient()
    logged = client.get_run(run.info.run_id).data
    assert logged.params["precision_policy"] == "float32" and logged.params["replicas"] == "1"
    assert logged.metrics["threshold"] == result["threshold"]
    # The schedule's rate, logged each epoch: past the warm-up and decaying from the peak.
    peak = tiny_params.train["localizer"].learning_rate
    rates = [m.value for m in client.get_metric_history(run.info.run_id, "learning_rate")]
    assert len(rates) == len(history["val_dice"]) and 0 < rates[-1] < rates[0] <= peak * 1.001
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert {"figures/learning_curves.png", "figures/val_pr_curve.png", "figures/val_confusion.png",
            "figures/val_tiles.png"} <= figures
    assert (tmp_path / "models" / "localizer.keras").exists()


DISTRIBUTED = """
import numpy as np, tensorflow as tf, keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from sunspotter.models.compiling import compile_model, precision_policy
from sunspotter.training.fit import strategy_for
from sunspotter.models.kinds import LOCALIZER
keras.mixed_precision.set_global_policy(precision_policy(on_gpu=True))
strategy = strategy_for(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = compile_model(LOCALIZER, LOCALIZER.build(16, [4, 8], 1), 1e-3)
x = np.random.default_rng(0).random((32, 16, 16, 1), np.float32)
y = (x > 0.9).astype(np.float32)
history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
first_conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
print(strategy.num_replicas_in_sync, model.output.dtype, first_conv.compute_dtype,
      np.isfinite(history.history["loss"][0]))
"""


def test_two_devices_mirrored_with_mixed_precision():
    """The multi-GPU path, on two logical CPUs: one replica each, float16 compute, float32 probabilities."""
    result = subprocess.run([sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, timeout=300,
                            env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-4:] == ["2", "float32", "float16", "True"], result.stdout
