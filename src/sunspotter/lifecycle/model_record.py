"""The record train leaves beside each saved model (``models/<kind>.json``) for evaluate and register."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sunspotter import paths
from sunspotter.io import atomic


@dataclass(frozen=True)
class ModelRecord:
    run_id: str       # the MLflow run that trained the model; evaluate logs its test figures there too
    model_uri: str    # the logged Keras model (``models:/m-...``), registered as is for a per-tile model
    threshold: float  # the probability at or above which it calls sunspot, chosen on val

    @classmethod
    def read(cls, kind_name: str) -> ModelRecord:
        return cls(**json.loads(paths.model_record(kind_name).read_text()))

    def write(self, kind_name: str) -> None:
        atomic.write_json(paths.model_record(kind_name), asdict(self))
