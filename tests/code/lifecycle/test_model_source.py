"""Which model ``predict`` and ``sunspotter.detect`` use when none is named: ``@champion``, else ``@challenger``
(right after ``dvc repro`` nothing is promoted yet), else the pipeline's saved copy; and they say which."""

from __future__ import annotations

import mlflow
import pytest

from sunspotter import paths
from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.lifecycle import model_source, tracking
from sunspotter.lifecycle.pyfunc import log_full_disk_model, save_full_disk_model
from sunspotter.lifecycle.registry import promote, register_challenger
from sunspotter.solar.solar_image import apparent_radius_arcsec
from tests.code.fulldisk.test_full_disk import DATE, RADIUS, contrast_model


def full_disk(threshold: float) -> FullDiskModel:
    return FullDiskModel(contrast_model(), threshold=threshold, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS)


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A repository after `dvc repro`: dvc.yaml, a SQLite store and the saved localizer (threshold 0.3)."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    contrast_model().save(tmp_path / "localizer.keras")
    save_full_disk_model(full_disk(0.3), tmp_path / "localizer.keras", tmp_path / paths.FULL_DISK_MODEL)
    return tmp_path


def register(repository, threshold: float) -> int:
    mlflow.set_tracking_uri(tracking.tracking_uri())
    with mlflow.start_run() as run:
        info = log_full_disk_model(full_disk(threshold), repository / "localizer.keras")
    return register_challenger(model_source.REGISTERED_LOCALIZER, info.model_uri, run.info.run_id, {})


def test_without_a_store_the_saved_copy_is_used_and_no_store_is_made(repository):
    source = model_source.load()
    assert source.model.threshold == 0.3 and source.describe() == str(repository / paths.FULL_DISK_MODEL)
    assert not (repository / "mlflow.db").exists()


def test_the_challenger_before_any_promotion_then_the_champion(repository):
    first = register(repository, 0.4)
    source = model_source.load()
    assert source.model.threshold == 0.4 and source.describe() == f"models:/sunspot-localizer@challenger (version {first})"
    promote(model_source.REGISTERED_LOCALIZER, {}, first)
    second = register(repository, 0.6)  # the new challenger, not promoted
    assert model_source.load().model.threshold == 0.4
    assert model_source.load(f"models:/sunspot-localizer/{second}").model.threshold == 0.6


def test_a_loaded_model_is_used_as_it_is_and_nothing_found_says_where_it_looked(tmp_path, monkeypatch):
    model = full_disk(0.5)
    assert model_source.load(model).model is model
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(model_source.ModelNotFound, match="no MLflow tracking store at .*no saved model at"):
        model_source.load()
    with pytest.raises(model_source.ModelNotFound, match="nowhere: neither a registry URI"):
        model_source.load("nowhere")
