"""The full-disk localizer as an MLflow pyfunc: saved, loaded back and predicting (served over HTTP: test_serving_load)."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sunspotter.lifecycle.model_source import load
from sunspotter.lifecycle.pyfunc import FullDiskLocalizer
from sunspotter.solar.solar_image import apparent_radius_arcsec
from tests.code.fulldisk.test_full_disk import DATE, RADIUS
from tests.conftest import REPO

#: The last commit before the package moved into layers; its pyfunc pickles ``sunspotter.serving.FullDiskLocalizer``.
PRE_MOVE = "ab8c3e9"


def test_saved_model_loads_with_its_settings(saved_model):
    model = load(saved_model).model
    assert model.threshold == 0.5 and model.tile_size == 128
    assert (model.edge_grow, model.edge_trim) == (0.9, 0.93)  # the edge cuts travel with the model
    assert model.arcsec_per_px == pytest.approx(apparent_radius_arcsec(DATE) / RADIUS)
    # It carries its code and names what that code needs, sunpy's readers included.
    assert (saved_model / "code" / "sunspotter" / "fulldisk" / "detection.py").is_file()
    assert not list((saved_model / "code").rglob("__pycache__"))
    requirements = (saved_model / "requirements.txt").read_text()
    assert all(f"{name}==" in requirements for name in ("sunpy[map]", "glymur", "lxml", "astropy", "tensorflow"))


def test_pyfunc_predicts_a_mask_from_file_bytes(saved_model, image_file):
    import mlflow

    pyfunc = mlflow.pyfunc.load_model(str(saved_model))
    out = pyfunc.predict(pd.DataFrame({"image": [image_file.read_bytes()]}))
    assert out["regions"].tolist() == [1] and out["total_area_msh"].iloc[0] > 100
    rows = json.loads(out["catalog"].iloc[0])  # the catalog's rows, as sunspotter.detect gives them
    assert len(rows) == 1 and rows[0]["area_msh"] == pytest.approx(out["total_area_msh"].iloc[0])
    assert {"hgs_lat_deg", "hgc_lon_deg", "location", "spot_count"} <= set(rows[0])
    mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(out["mask_png"].iloc[0]))))
    assert mask.shape == (512, 512) and (mask > 0).sum() > 200


def test_cli_predict_writes_outputs_and_names_bad_files(saved_model, image_file, tmp_path, capsys):
    from sunspotter.cli import main

    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    out = tmp_path / "out"
    assert main(["predict", str(image_file), str(bad), "-o", str(out), "--model", str(saved_model),
                 "--format", "parquet"]) == 1
    captured = capsys.readouterr()
    assert "notes.png: not a readable picture" in captured.err and "1 of 2 images done" in captured.out
    catalog = pd.read_parquet(out / "20140105.1800.HW.R.P.rdc.catalog.parquet")
    assert len(catalog) == 1 and catalog["image"].iloc[0] == image_file.name


def test_cli_predict_without_a_model_is_a_clear_error(tmp_path, image_file, capsys):
    from sunspotter.cli import main

    assert main(["predict", str(image_file), "--model", str(tmp_path / "nowhere")]) == 1
    assert "nowhere: neither a registry URI (models:/NAME@ALIAS) nor a saved model folder" in capsys.readouterr().err


#: Run on the pre-move source (argv: its root, the image, the output folder): the saved_model fixture's model, saved
#: by the old save function, then loaded back and asked for a mask by the old code.
SAVE_BEFORE_THE_MOVE = """
import sys
from pathlib import Path
old_root, image, out = map(Path, sys.argv[1:])
sys.path[:0] = [str(old_root / "src"), str(old_root)]  # ahead of the editable install of today's package
import base64, io
import mlflow, numpy as np, pandas as pd
from PIL import Image
import sunspotter
from sunspotter.inference import FullDiskModel
from sunspotter.serving import FullDiskLocalizer, save_full_disk_model
from sunspotter.solar_image import apparent_radius_arcsec
from tests.code.test_full_disk import DATE, RADIUS, contrast_model
assert Path(sunspotter.__file__).is_relative_to(old_root), sunspotter.__file__
contrast_model().save(out / "localizer.keras")
model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                      edge_grow=0.9, edge_trim=0.93)
save_full_disk_model(model, out / "localizer.keras", out / "full_disk")
pyfunc = mlflow.pyfunc.load_model(str(out / "full_disk"))
assert type(pyfunc.unwrap_python_model()) is FullDiskLocalizer
answer = pyfunc.predict(pd.DataFrame({"image": [image.read_bytes()]}))
np.save(out / "mask.npy", np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["mask_png"].iloc[0])))))
"""


def pre_move_source(out: Path) -> Path:
    """The ``src`` and ``tests`` of the pre-move commit, extracted under ``out``; a skip where the clone lacks it."""
    try:
        found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{PRE_MOVE}^{{commit}}"],
                               capture_output=True).returncode == 0
    except FileNotFoundError:
        found = False
    if not found:
        pytest.skip(f"commit {PRE_MOVE} (the last before the package move) is not in this clone (shallow?)")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", PRE_MOVE, "src", "tests"], capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(out, filter="data")
    return out


def test_a_model_saved_before_the_package_move_loads_and_predicts_alike(image_file, tmp_path):
    """Registry versions saved before the move pickle ``sunspotter.serving.FullDiskLocalizer``: the shim left at
    that path loads them into today's class, and today's code draws the same mask the old code did."""
    import mlflow

    old_root = pre_move_source(tmp_path / "pre_move")
    out = tmp_path / "out"
    out.mkdir()
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(old_root / "src"), str(old_root)]),
                        "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", SAVE_BEFORE_THE_MOVE, str(old_root), str(image_file), str(out)],
                            cwd=old_root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    pyfunc = mlflow.pyfunc.load_model(str(out / "full_disk"))
    assert isinstance(pyfunc.unwrap_python_model(), FullDiskLocalizer)
    answer = pyfunc.predict(pd.DataFrame({"image": [image_file.read_bytes()]}))
    mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["mask_png"].iloc[0]))))
    old_mask = np.load(out / "mask.npy")
    assert (old_mask > 0).sum() > 200  # a real spot to agree on, not two empty masks
    np.testing.assert_array_equal(mask, old_mask)
