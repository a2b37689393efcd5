"""``make check-model``'s comparison, run here with this environment standing in for the fresh one it builds
(the build itself needs the package index: ``make check-model``, outside the suite)."""

from __future__ import annotations

import base64
import io
import shutil
import sys
from pathlib import Path

import mlflow
import pytest
from PIL import Image

from sunspotter.lifecycle import check_model


def test_the_check_runs_the_models_own_code_and_catches_a_difference(saved_model, image_file, tmp_path):
    environment = Path(sys.executable).parent.parent
    request = check_model.request_for(saved_model, image_file)
    there = check_model.answer_elsewhere(environment, saved_model, request, tmp_path)
    here = mlflow.pyfunc.load_model(str(saved_model)).predict(request)
    assert there["regions"].tolist() == [1] and check_model.differences(here, there) == []

    changed = there.copy()
    mask = check_model.mask(changed.iloc[0]).copy()
    mask[0, :3] = 255 - mask[0, :3]
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, format="PNG")
    changed.loc[0, "mask_png"] = base64.b64encode(buffer.getvalue()).decode()
    assert check_model.differences(here, changed) == ["image 1: the masks differ in 3 pixels"]

    # A model that does not carry its code would run whatever sunspotter is installed: the check refuses it.
    codeless = tmp_path / "codeless"
    shutil.copytree(saved_model, codeless)
    shutil.rmtree(codeless / "code")
    with pytest.raises(check_model.CheckFailed, match="imported .*sunspotter"):
        check_model.answer_elsewhere(environment, codeless, request, tmp_path)
