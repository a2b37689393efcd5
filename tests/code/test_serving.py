"""The full-disk localizer as an MLflow pyfunc: saved and loaded back, and served over HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.lifecycle.pyfunc import load_full_disk_model, save_full_disk_model
from sunspotter.solar.solar_image import apparent_radius_arcsec
from tests.code.test_full_disk import DATE, RADIUS, contrast_model, pspt_file, sun
from tests.local_servers import free_port, wait_until_answering


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    keras_path = folder / "localizer.keras"
    contrast_model().save(keras_path)
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                          edge_grow=0.9, edge_trim=0.93)
    save_full_disk_model(model, keras_path, folder / "full_disk")
    return folder / "full_disk"


@pytest.fixture(scope="module")
def image_file(tmp_path_factory) -> Path:
    return pspt_file(tmp_path_factory.mktemp("image") / "20140105.1800.HW.R.P.rdc.fits.gz", sun())


def test_saved_model_loads_with_its_settings(saved_model):
    model = load_full_disk_model(str(saved_model))
    assert model.threshold == 0.5 and model.tile_size == 128
    assert (model.edge_grow, model.edge_trim) == (0.9, 0.93)  # the edge cuts travel with the model
    assert model.arcsec_per_px == pytest.approx(apparent_radius_arcsec(DATE) / RADIUS)


def test_pyfunc_predicts_a_mask_from_file_bytes(saved_model, image_file):
    import mlflow

    pyfunc = mlflow.pyfunc.load_model(str(saved_model))
    out = pyfunc.predict(pd.DataFrame({"image": [image_file.read_bytes()]}))
    assert out["regions"].tolist() == [1] and out["total_area_msh"].iloc[0] > 100
    mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(out["mask_png"].iloc[0]))))
    assert mask.shape == (512, 512) and (mask > 0).sum() > 200


def test_mlflow_models_serve_answers_with_a_mask(saved_model, image_file, tmp_path):
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)  # serve execs uvicorn by name
    env = os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(saved_model),
                               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/ping", server, log=tmp_path / "serve.log")
        payload = base64.b64encode(image_file.read_bytes()).decode()
        body = json.dumps({"dataframe_split": {"columns": ["image"], "data": [[payload]]}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        answer = json.loads(urllib.request.urlopen(request, timeout=120).read())
        row = answer["predictions"][0]
        assert row["regions"] == 1
        mask = np.asarray(Image.open(io.BytesIO(base64.b64decode(row["mask_png"]))))
        assert (mask > 0).sum() > 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


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
    assert "cannot load the model" in capsys.readouterr().err
