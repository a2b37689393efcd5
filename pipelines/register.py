"""Stage register: register both trained models in the MLflow registry and point @challenger at them.

The classifier is registered as the tile model its training run logged; the localizer as the full-disk
pyfunc (any solar image in, its mask out; its input example is the first test frame as a quick-look
picture), also saved to models/full_disk_localizer for offline use
(a copy of what the registry holds, so not a DVC output). A localizer trained on several filters cannot
read one whole image and is registered as its tile model.
Each version carries its test metrics as tags and a model card as its description.
"""

import json
from dataclasses import asdict

import mlflow

from sunspotter import paths
from sunspotter.config import load_params
from sunspotter.dataset import tiles
from sunspotter.dataset.frames import split_pairs
from sunspotter.fulldisk.trained import trained_full_disk_model
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.model_card import model_card
from sunspotter.lifecycle.model_record import ModelRecord
from sunspotter.lifecycle.pyfunc import input_example, log_full_disk_model, save_full_disk_model
from sunspotter.lifecycle.registry import DATA_TAG, register_challenger
from sunspotter.lifecycle.stage import stage_main
from sunspotter.models.kinds import KINDS, LOCALIZER
from sunspotter.solar.solar_image import read_solar_image


@stage_main
def main() -> None:
    params = load_params()
    names = {name: getattr(params.register, name) for name in KINDS}
    test_metrics = json.loads((paths.METRICS / "evaluate.json").read_text())
    data_hash, commit = tracking.dvc_hash(str(paths.TILES)), tracking.git_commit()
    versions = {}
    with tracking.stage_run("register"):
        for kind in KINDS.values():
            record = ModelRecord.read(kind.name)
            model_uri, card_params = record.model_uri, asdict(params.train[kind.name])
            card_figures = {}
            if not kind.per_tile and len(tiles.read_meta(paths.TILES).channels) == 1:
                card_figures = _full_disk_figures()
                full_disk = trained_full_disk_model(paths.model_file(kind.name), record.threshold, paths.TILES,
                                                    paths.DUST_MAP, **asdict(params.full_disk))
                example = _input_example()
                save_full_disk_model(full_disk, paths.model_file(kind.name), paths.FULL_DISK_MODEL, example)
                model_uri = log_full_disk_model(full_disk, paths.model_file(kind.name), example).model_uri
                card_params |= {f"full_disk.{name}": value for name, value in asdict(params.full_disk).items()}
            card = model_card(names[kind.name], kind, data_hash=data_hash, git_commit=commit,
                              params=card_params, metrics=test_metrics[kind.name],
                              gates=params.register.gates.get(kind.name, {}), run_id=record.run_id, **card_figures)
            mlflow.log_text(card, f"model_cards/{kind.name}.md")
            tags = {"git_commit": commit, DATA_TAG: data_hash}
            tags |= {name: f"{value:.6g}" for name, value in test_metrics[kind.name].items()}
            version = register_challenger(names[kind.name], model_uri, record.run_id, tags, description=card)
            versions[kind.name] = {"name": names[kind.name], "version": version, "alias": "challenger"}
    write_json(paths.MODELS / "registry.json", versions)


def _input_example():
    """The full-disk pyfunc's input example: the first test frame, as a quick-look picture with its date."""
    channel = tiles.read_meta(paths.TILES).channels[0]
    pairs = split_pairs(paths.RAW, paths.TILES, channel=channel)
    return input_example(read_solar_image(pairs[min(pairs)].images[0]))


def _full_disk_figures() -> dict:
    """What the full-disk localizer's card shows besides its metrics: its region figures by size, mu and
    condition (evaluate) and its headline figures per instrument profile (evaluate_profiles)."""
    import pandas as pd

    profiles = json.loads((paths.METRICS / "profiles.json").read_text())
    return {"strata": pd.read_csv(paths.METRICS / f"regions_{LOCALIZER.name}.csv"),
            "profiles": {name: by_detector[LOCALIZER.name] for name, by_detector in profiles.items()}}


if __name__ == "__main__":
    main()
