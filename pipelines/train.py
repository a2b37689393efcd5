"""Stage train@<model>: train the classifier or the localizer on the tile shards, logged to MLflow."""

import sys

import pandas as pd

from sunspotter import paths
from sunspotter.config import load_params
from sunspotter.dataset import tiles
from sunspotter.io import atomic
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.model_record import ModelRecord
from sunspotter.lifecycle.stage import stage_main
from sunspotter.lifecycle.training_run import train_and_log
from sunspotter.models.kinds import KINDS
from sunspotter.training.fit import device_name


@stage_main
def main(name: str) -> None:
    if name not in KINDS:
        raise SystemExit(f"usage: train.py {{{'|'.join(KINDS)}}}")
    kind = KINDS[name]
    params = load_params()
    with tracking.stage_run("train", name, tags={"device": device_name()}, system_metrics=True) as run:
        tracking.log_tiles_input(paths.TILES, tiles.read_index(paths.TILES))
        result = train_and_log(kind, params, paths.TILES, paths.MODELS)
        write_json(paths.METRICS / f"train_{name}.json", result["metrics"])
        history = pd.DataFrame(result["history"]).rename_axis("epoch")
        atomic.write_bytes(paths.METRICS / f"history_{name}.csv", history.to_csv().encode())
        ModelRecord(run.info.run_id, result["model_uri"], result["threshold"]).write(name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
