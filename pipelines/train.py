"""Stage train@<model>: train the classifier or the localizer on the tile shards, logged to MLflow."""

import sys

import pandas as pd

from sunspotter import paths
from sunspotter.config import MODEL_KINDS, load_params
from sunspotter.dataset import tiles
from sunspotter.io.pspt import atomic_write_bytes
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main, write_json
from sunspotter.lifecycle.training_run import train_and_log
from sunspotter.training.fit import device_name


@stage_main
def main(kind: str) -> None:
    if kind not in MODEL_KINDS:
        raise SystemExit(f"usage: train.py {{{'|'.join(MODEL_KINDS)}}}")
    params = load_params()
    with tracking.stage_run("train", kind, tags={"device": device_name()}, system_metrics=True) as run:
        tracking.log_tiles_input(paths.TILES, tiles.read_index(paths.TILES))
        result = train_and_log(kind, params, paths.TILES, paths.MODELS)
        write_json(paths.METRICS / f"train_{kind}.json", result["metrics"])
        history = pd.DataFrame(result["history"]).rename_axis("epoch")
        atomic_write_bytes(paths.METRICS / f"history_{kind}.csv", history.to_csv().encode())
        write_json(paths.model_record(kind), {"run_id": run.info.run_id, "model_uri": result["model_uri"],
                                              "threshold": result["threshold"]})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
