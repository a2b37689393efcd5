"""Gated promotion in a real MLflow registry (SQLite in a temporary folder): a worse challenger is refused,
a better one promoted, a forced promotion recorded, and every version carries its model card."""

from __future__ import annotations

import json
import os
import time

import mlflow
import pytest

from sunspotter.cli import main as cli_main
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.model_card import model_card
from sunspotter.lifecycle.registry import DATA_TAG, PromotionRefused, gate_failures, promote, register_challenger
from sunspotter.models.kinds import CLASSIFIER, LOCALIZER

NAME = "sunspot-classifier"
GATES = {"min_test_f1": 0.9, "min_test_roc_auc": 0.95}


class Constant(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(tracking.tracking_uri())

    def register(f1: float, auc: float, data: str = "hash-a") -> int:
        with mlflow.start_run() as run:
            info = mlflow.pyfunc.log_model(name="model", python_model=Constant())
        metrics = {"test_f1": f1, "test_roc_auc": auc}
        card = model_card(NAME, CLASSIFIER, data_hash=data, git_commit="abc", params={"epochs": 1},
                          metrics=metrics, gates=GATES, run_id=run.info.run_id)
        tags = {DATA_TAG: data} | {k: f"{v:.6g}" for k, v in metrics.items()}
        return register_challenger(NAME, info.model_uri, run.info.run_id, tags, description=card)

    return register


def champion():
    return int(tracking.client().get_model_version_by_alias(NAME, "champion").version)


def test_gates_name_what_failed():
    assert gate_failures({"test_f1": 0.8, "test_roc_auc": 0.99}, GATES) == ["test_f1 = 0.8 is below the gate 0.9"]
    assert gate_failures({"test_area_error": 0.2}, {"max_test_area_error": 0.1}) == [
        "test_area_error = 0.2 is above the gate 0.1"]
    assert "not measured" in gate_failures({}, {"min_test_dice": 0.85})[0]


def test_better_challenger_is_promoted_and_worse_one_refused(registry):
    first = registry(0.95, 0.99)
    assert promote(NAME, GATES) == first and champion() == first
    better = registry(0.97, 0.995)
    assert promote(NAME, GATES) == better and champion() == better
    worse = registry(0.96, 0.999)  # passes the gates, but its F1 is below the champion's
    with pytest.raises(PromotionRefused, match="test_f1 = 0.96 is worse than the champion's 0.97"):
        promote(NAME, GATES)
    assert champion() == better
    record = tracking.client().get_model_version(NAME, str(better))
    promotions = [json.loads(v) for k, v in record.tags.items() if k.startswith("promotion_")]
    assert promotions[0]["from_version"] == str(first) and promotions[0]["force_reason"] is None
    assert worse > better


def test_a_challenger_below_the_gates_is_refused_even_without_a_champion(registry):
    registry(0.5, 0.99)
    with pytest.raises(PromotionRefused, match="test_f1 = 0.5 is below the gate 0.9"):
        promote(NAME, GATES)


def test_champion_tested_on_other_data_is_not_compared(registry):
    promote(NAME, GATES, registry(0.95, 0.99, data="hash-a"))
    registry(0.99, 0.999, data="hash-b")
    with pytest.raises(PromotionRefused, match="tested on other data"):
        promote(NAME, GATES)


def test_force_promotes_and_records_the_reason(registry, capsys):
    registry(0.5, 0.6)
    params = {"register": {"classifier": NAME, "localizer": "sunspot-localizer",
                           "gates": {"classifier": GATES}}}
    assert cli_main(["promote", "classifier", "--params", _params_file(params)]) == 1
    assert "below the gate" in capsys.readouterr().err
    assert cli_main(["promote", "classifier", "--params", _params_file(params), "--force", "demo for a talk"]) == 0
    version = tracking.client().get_model_version(NAME, str(champion()))
    record = next(json.loads(v) for k, v in version.tags.items() if k.startswith("promotion_"))
    assert record["force_reason"] == "demo for a talk" and "test_f1 = 0.5 is below the gate 0.9" in record[
        "refusals_overridden"][0]


def test_every_version_carries_its_model_card(registry):
    version = registry(0.95, 0.99)
    card = tracking.client().get_model_version(NAME, str(version)).description
    assert card.startswith(f"# {NAME}") and "hash-a" in card and "| `test_f1` | 0.95 |" in card
    assert "Passes every gate." in card


def _params_file(overrides: dict) -> str:
    """The repo's params.yaml with the register section replaced, written next to the registry."""
    from pathlib import Path

    import yaml

    from tests.conftest import REPO

    params = yaml.safe_load((REPO / "params.yaml").read_text()) | overrides
    path = Path("params.yaml")
    path.write_text(yaml.safe_dump(params))
    return str(path)


def _promote_slowly(uri: str, version: int, start, results) -> None:
    """In a child process: promote ``version`` once both children are ready, dawdling before moving the alias
    so that, unserialised, the other child would judge against the same old champion."""
    import os

    from mlflow import MlflowClient

    os.environ["MLFLOW_TRACKING_URI"] = uri
    move = MlflowClient.set_registered_model_alias

    def slow_move(self, *args, **kwargs):
        time.sleep(1.5)
        return move(self, *args, **kwargs)

    MlflowClient.set_registered_model_alias = slow_move
    start.wait()
    try:
        results[version] = promote(NAME, GATES, version)
    except PromotionRefused as err:
        results[version] = str(err)


def test_two_promotions_at_once_leave_consistent_aliases(registry):
    import multiprocessing

    first = registry(0.95, 0.99)
    promote(NAME, GATES, first)
    better, best = registry(0.96, 0.992), registry(0.97, 0.995)
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(2), context.Manager().dict()
    children = [context.Process(target=_promote_slowly, args=(os.environ["MLFLOW_TRACKING_URI"], v, start, results))
                for v in (best, better)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    # Whichever went first, the best version ends as champion, and each record names the real predecessor.
    assert champion() == best, dict(results)
    versions = {v: tracking.client().get_model_version(NAME, str(v)) for v in (better, best)}
    records = {v: [json.loads(t) for k, t in mv.tags.items() if k.startswith("promotion_")] for v, mv in versions.items()}
    if records[better]:  # better went first, then best was judged against it
        assert records[better][0]["from_version"] == str(first) and records[best][0]["from_version"] == str(better)
    else:  # best went first; better was refused as worse than best
        assert records[best][0]["from_version"] == str(first) and "worse than the champion" in results[better]


def test_full_disk_card_says_where_to_trust_it_and_how_it_holds_elsewhere():
    import pandas as pd

    strata = pd.DataFrame([
        {"dimension": "size_msh", "bin": "10-30", "true_regions": 22, "found": 17, "predicted_regions": 23,
         "on_a_spot": 23, "recall": 17 / 22, "precision": 1.0, "area_error_median": 0.12, "area_bias_median": -0.05},
        {"dimension": "condition", "bin": "cloud", "true_regions": 0, "found": 0, "predicted_regions": 0,
         "on_a_spot": 0, "recall": float("nan"), "precision": float("nan"), "area_error_median": float("nan"),
         "area_bias_median": float("nan")}])
    profile = {"test_region_recall_100_and_up": 1.0, "test_false_regions_per_image_100_and_up": 0.25,
               "test_region_recall": 0.8, "test_region_precision": 0.5, "test_count_exact_fraction": 0.3,
               "test_area_relative_error_median": 0.097, "test_disk_dice": 0.7}
    card = model_card(NAME, LOCALIZER, data_hash="h", git_commit="c", params={}, metrics={}, gates={},
                      run_id="r", strata=strata, profiles={"jpeg_quicklook": profile})
    assert "| size (MSH) | 10-30 | 22 | 77 % | 23 | 100 % | 12 % | -5 % |" in card
    assert "| observing condition | cloud | 0 | - | 0 | - | - | - |" in card  # no regions: no figure, not 0
    # A figure under 10 % keeps a decimal: 9.7 % is not rounded up to the 10 % gate.
    assert "| jpeg_quicklook | 100 % | 0.25 | 80 % | 50 % | 30 % | 9.7 % | 0.70 |" in card
