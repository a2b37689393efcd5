"""The model the behavioural tests judge, and the frames they render for it.

With ``SUNSPOTTER_MODEL=pipeline`` (``make run``, after ``dvc repro``) it is the pipeline's own full-disk
localizer in the current directory, built exactly as the evaluate stage builds it; otherwise (``make
test``) a small localizer trained here on a short synthetic archive (``small_localizer``). The same tests
judge both.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pytest

from sunspotter import paths
from sunspotter.acquire.synth.geometry import PSPT_IMAGE_SIZE, PSPT_PLATE_SCALE
from sunspotter.config import load_params
from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.fulldisk.trained import trained_full_disk_model
from sunspotter.lifecycle.model_record import ModelRecord
from sunspotter.models.kinds import LOCALIZER

MODEL_VARIABLE = "SUNSPOTTER_MODEL"
MODES = ("pipeline", "small")


@pytest.fixture(scope="session")
def full_disk_model(tmp_path_factory) -> FullDiskModel:
    mode = os.environ.get(MODEL_VARIABLE) or "small"
    if mode not in MODES:
        pytest.fail(f"{MODEL_VARIABLE}={mode!r}: expected one of {', '.join(MODES)}", pytrace=False)
    if mode == "pipeline":
        return pipeline_model()
    from tests.model.small_localizer import train_small_localizer

    return train_small_localizer(tmp_path_factory.mktemp("small_localizer"))


def pipeline_model() -> FullDiskModel:
    """The pipeline's localizer as evaluate and register see it: its threshold, its tiles' plate scale, the dust map
    of its archive and the full_disk params; a clear failure, not a skip, when the pipeline has not been run."""
    needed = [paths.model_file(LOCALIZER.name), paths.model_record(LOCALIZER.name), paths.TILES / "meta.json",
              paths.DUST_MAP, Path("params.yaml")]
    missing = [str(path) for path in needed if not path.exists()]
    if missing:
        pytest.fail(f"{MODEL_VARIABLE}=pipeline: no {', '.join(missing)} in {Path.cwd()}: run `dvc repro` first",
                    pytrace=False)
    threshold = ModelRecord.read(LOCALIZER.name).threshold
    return trained_full_disk_model(paths.model_file(LOCALIZER.name), threshold, paths.TILES, paths.DUST_MAP,
                                   **asdict(load_params().full_disk))


@pytest.fixture(scope="session")
def frame_size(full_disk_model) -> int:
    """Pixels on a side of the model's training frames: the disk fills them as on the 2048-px PSPT CCD at the
    model's plate scale, and they are whole tiles across (params' rule), so scenes need no resampling."""
    tiles_across = PSPT_IMAGE_SIZE * PSPT_PLATE_SCALE / (full_disk_model.arcsec_per_px * full_disk_model.tile_size)
    return round(tiles_across) * full_disk_model.tile_size
