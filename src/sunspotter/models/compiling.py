"""How a model is compiled for training: its kind's loss and metrics, Adam, and the numeric precision.

Keras alone (no TensorFlow), so the same compiled models run on any Keras backend: the GPU benchmark
(`bench/gpu_speed.py`) runs them under JAX."""

from __future__ import annotations

import keras

from sunspotter.models.kinds import ModelKind


def precision_policy(on_gpu: bool) -> str:
    """Mixed precision where the hardware has fast float16 (GPUs); plain float32 on CPUs, where it is slower."""
    return "mixed_float16" if on_gpu else "float32"


def compile_model(kind: ModelKind, model, learning_rate, focal_gamma: float = 0.0, small_spot_weight: float = 0.0):
    """Compile for training; ``learning_rate`` is a number or a Keras schedule."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=kind.loss(focal_gamma, small_spot_weight),
                  metrics=kind.metrics())
    return model
