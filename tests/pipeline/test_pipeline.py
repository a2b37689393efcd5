"""The whole pipeline on a tiny config, in a fresh clone of this repo, as a user would run it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _tiny_params(params: dict) -> dict:
    params["base"].update(image_size=256, tile_size=32)
    params["acquire"]["n_days"] = 8
    params["acquire"]["synthetic"].update(cycle_phase=1.0)
    params["tile"].update(shards_per_split=1, stride=32, dask_workers=1)
    params["tile"]["split"].update(block_days=1, gap_days=0)
    params["validate"].update(min_positive_fraction=0.0, max_positive_fraction=1.0)
    for model in ("classifier", "localizer"):
        params["train"][model].update(epochs=1, steps_per_epoch=10, batch_size=16, filters=[4, 8, 16])
    # The 256-px archive is at 8 arcsec per pixel: a finer FITS and a coarser JPEG profile.
    params["profiles"] = {"fits_fine": {"arcsec_per_px": 4.0, "wavelength_nm": 617.3, "format": "wcs_fits", "photons": 0},
                          "jpeg_coarse": {"arcsec_per_px": 16.0, "wavelength_nm": 617.3, "format": "jpeg", "photons": 0}}
    return params


def _run(args, cwd, env, timeout=900):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A clone of the committed repo with tiny params, after one full `dvc repro`."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to clone the repo")
    root = tmp_path_factory.mktemp("pipeline")
    work = root / "sunspotter"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    # System metrics are sampled every 10 s by default: longer than a tiny training run.
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", DVC_NO_ANALYTICS="1",
               MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL="1")
    _run(["git", "clone", "--quiet", str(REPO), str(work)], root, env)
    params_path = work / "params.yaml"
    params_path.write_text(yaml.safe_dump(_tiny_params(yaml.safe_load(params_path.read_text())), sort_keys=False))
    # dvc exp run commits too: give the clone its own identity, whatever the machine's git config.
    _run(["git", "config", "user.name", "Sunspotter Tests"], work, env)
    _run(["git", "config", "user.email", "tests@sunspotter.invalid"], work, env)
    _run(["git", "commit", "-qam", "tiny params"], work, env)
    # As `make setup` does: DVC's plots pages with Vega inlined, so they draw offline.
    template = root / "dvc_plots_template.html"
    _run([sys.executable, "-m", "sunspotter.evaluation.plots_page", str(template)], work, env)
    _run(["dvc", "config", "--local", "plots.html_template", str(template)], work, env)
    _run(["dvc", "repro"], work, env)
    return work, env


def _registry(work):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{work / 'mlflow.db'}")


def test_metrics_exist(clone):
    work, _ = clone
    evaluation = json.loads((work / "metrics/evaluate.json").read_text())
    for name in ("test_accuracy", "test_precision", "test_recall", "test_f1", "test_roc_auc"):
        assert 0.0 <= evaluation["classifier"][name] <= 1.0
    for name in ("test_dice", "test_iou"):
        assert 0.0 <= evaluation["localizer"][name] <= 1.0
    baseline = json.loads((work / "metrics/baseline.json").read_text())
    assert evaluation["localizer"]["test_dice_over_baseline"] == pytest.approx(
        evaluation["localizer"]["test_dice"] - baseline["test_dice"])
    for model in ("classifier", "localizer"):
        assert 0.0 <= evaluation[model]["test_threshold"] < 1.0
        curve = (work / f"metrics/pr_{model}.csv").read_text().splitlines()
        assert curve[0] == "threshold,precision,recall" and len(curve) > 100
    for suite in ("raw", "tiles"):
        assert (work / f"reports/{suite}/data_docs/index.html").exists()
    for model in ("classifier", "localizer"):
        assert "val_loss" in json.loads((work / f"metrics/train_{model}.json").read_text())
    assert json.loads((work / "reports/raw/summary.json").read_text())["success"] is True
    profiles = json.loads((work / "metrics/profiles.json").read_text())
    assert set(profiles) == {"fits_fine", "jpeg_coarse"}
    for by_detector in profiles.values():
        assert set(by_detector) == {"localizer", "stara", "contrast_cut"}
        assert all(by_detector[d]["test_images"] >= 1 and 0 <= by_detector[d]["test_disk_dice"] <= 1 for d in by_detector)


def test_runs_are_in_mlflow_with_lineage(clone):
    work, _ = clone
    client = _registry(work)
    experiment = client.get_experiment_by_name("sunspotter")
    runs = client.search_runs([experiment.experiment_id])
    by_name = {run.info.run_name: run for run in runs}
    assert {"acquire", "validate_raw", "tile", "validate_tiles", "train-classifier", "train-localizer",
            "baseline-classical", "dust_map", "evaluate", "register"} <= set(by_name)
    train = by_name["train-classifier"]
    assert train.data.tags["stage"] == "train" and len(train.data.tags["git_commit"]) == 40
    assert "train.classifier.epochs" in train.data.params
    assert {"train_loss", "val_loss", "val_auc", "test_f1", "threshold", "best_epoch"} <= set(train.data.metrics)
    assert any(name.startswith("system/") for name in train.data.metrics), sorted(train.data.metrics)
    figures = {a.path for a in client.list_artifacts(train.info.run_id, "figures")}
    assert {"figures/learning_curves.png", "figures/val_pr_curve.png", "figures/test_pr_curve.png",
            "figures/test_confusion.png", "figures/test_tiles.png"} <= figures
    assert "test_dice" in by_name["baseline-classical"].data.metrics
    assert train.data.tags["host"] and int(train.data.tags["pid"]) > 0  # which process ran it
    # The test metrics are on each model's LoggedModel too, where the UI's model page shows them.
    for model in ("classifier", "localizer"):
        model_id = json.loads((work / f"models/{model}.json").read_text())["model_uri"].removeprefix("models:/")
        logged = {metric.key for metric in client.get_logged_model(model_id).metrics or []}
        assert {"test_dice" if model == "localizer" else "test_f1", "test_threshold"} <= logged, logged
    # No credentials reach MLflow: no URL with a user or password among any run's params or tags.
    import re

    logged = [v for run in runs for v in (*run.data.params.values(), *run.data.tags.values())]
    assert not [v for v in logged if re.search(r"://[^/\s]*@", v)]
    assert train.inputs.dataset_inputs[0].dataset.digest == _dvc_tiles_hash(work)


def _dvc_tiles_hash(work):
    lock = yaml.safe_load((work / "dvc.lock").read_text())
    return next(out["md5"] for out in lock["stages"]["tile"]["outs"] if out["path"] == "data/tiles")


def test_models_are_registered_as_challenger_and_promotable(clone):
    work, env = clone
    client = _registry(work)
    for name in ("sunspot-classifier", "sunspot-localizer"):
        challenger = client.get_model_version_by_alias(name, "challenger")
        assert float(challenger.tags["test_accuracy" if "classifier" in name else "test_dice"]) >= 0
        assert challenger.description.startswith(f"# {name}")  # the model card
    card = client.get_model_version_by_alias("sunspot-localizer", "challenger").description
    assert "## Where to trust it" in card and "| observing condition | clean |" in card
    assert "## Other instruments" in card and "| jpeg_coarse |" in card
    # One-epoch models fail the gates in params.yaml: promotion says why, --force overrides and is recorded.
    refused = subprocess.run([str(BIN / "sunspotter"), "promote", "classifier"], cwd=work, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "below the gate" in refused.stderr
    _run([str(BIN / "sunspotter"), "promote", "localizer", "--force", "tiny test models"], work, env)
    champion = client.get_model_version_by_alias("sunspot-localizer", "champion")
    assert champion.version == client.get_model_version_by_alias("sunspot-localizer", "challenger").version
    assert any(key.startswith("promotion_") for key in champion.tags)


def test_predict_a_whole_image_with_the_champion(clone):
    work, env = clone
    image = next((work / "data/raw").glob("*.HW.R.P.rdc.fits.gz"))
    out = work / "predictions"
    _run([str(BIN / "sunspotter"), "predict", str(image), "-o", str(out)], work, env)
    stem = image.name.removesuffix(".fits.gz")
    assert {f"{stem}.mask.fits", f"{stem}.overlay.png", f"{stem}.catalog.csv", "summary.csv"} <= {
        p.name for p in out.iterdir()}
    # The same model saved for offline use gives the same answer.
    _run([str(BIN / "sunspotter"), "predict", str(image), "-o", str(out / "offline"), "--model",
          "models/full_disk_localizer"], work, env)
    assert (out / "offline" / "summary.csv").read_text() == (out / "summary.csv").read_text()
    evaluation = json.loads((work / "metrics/evaluate.json").read_text())["localizer"]
    assert 0.0 <= evaluation["test_disk_dice"] <= 1.0 and evaluation["test_images"] >= 1
    assert (work / "metrics/images_localizer.csv").read_text().startswith("observation,")


def test_second_repro_does_nothing_quickly(clone):
    work, env = clone
    start = time.monotonic()
    result = _run(["dvc", "repro"], work, env)
    assert time.monotonic() - start < 5
    assert "Running stage" not in result.stdout


#: The learning curves dvc.yaml draws: train and val of the loss and of the monitored metric, per model.
LEARNING_CURVES = {"classifier_loss": ("train_loss", "val_loss"), "localizer_loss": ("train_loss", "val_loss"),
                   "classifier_monitored_metric": ("train_auc", "val_auc"),
                   "localizer_monitored_metric": ("train_dice", "val_dice")}


def _plot_spec(page: str, plot_id: str) -> str:
    """The Vega spec DVC wrote into the page for one plot."""
    return re.search(rf'<div id = "{plot_id}">.*?var spec = (.*?);\s*vegaEmbed', page, re.S).group(1)


def _overlay_images(page: str, folder: Path) -> list[Path]:
    found = [folder / src for src in re.findall(r'<img src="([^"]+)"', page) if "overlays" in src]
    assert found and all(path.is_file() for path in found), found
    return found


def test_plots_draw_offline_with_learning_curves_and_test_overlays(clone, tmp_path):
    from tests.browser import open_page

    work, env = clone
    _run(["dvc", "plots", "show", "-o", str(tmp_path / "plots")], work, env)
    page = (tmp_path / "plots" / "index.html").read_text()
    assert "cdn.jsdelivr" not in page and "<script src=" not in page  # the scripts are inlined
    for plot_id, series in LEARNING_CURVES.items():
        spec = _plot_spec(page, plot_id)
        assert all(f'"{name}"' in spec for name in series), (plot_id, spec[:500])
    test_images = len((work / "metrics/images_localizer.csv").read_text().splitlines()) - 1
    assert len(_overlay_images(page, tmp_path / "plots")) == min(4, test_images)
    shown = open_page(tmp_path / "plots" / "index.html", tmp_path / "browser")
    assert shown.left_the_machine == []
    # Every data plot drew: Vega renders each into an SVG of class "marks".
    assert shown.count('class="marks"') == page.count("vegaEmbed(") >= len(LEARNING_CURVES)


def test_experiment_reruns_training_but_not_data_stages(clone, tmp_path):
    work, env = clone
    _run(["git", "commit", "-qm", "the tiny pipeline's outputs", "dvc.lock"], work, env)  # the baseline to diff
    result = _run(["dvc", "exp", "run", "-S", "train.classifier.epochs=2"], work, env)
    assert _stages_run(result) == {"train@classifier", "evaluate", "register"}, result.stdout
    # dvc plots diff shows both: the experiment's curves beside the committed ones, and both sets of overlays.
    _run(["dvc", "plots", "diff", "HEAD", "-o", str(tmp_path / "diff")], work, env)
    page = (tmp_path / "diff" / "index.html").read_text()
    revisions = {point["rev"] for point in json.loads(_plot_spec(page, "classifier_loss"))["data"]["values"]}
    assert revisions == {"HEAD", "workspace"}
    overlays = _overlay_images(page, tmp_path / "diff")
    by_revision = {rev: [path for path in overlays if rev in str(path)] for rev in ("HEAD", "workspace")}
    assert len(by_revision["HEAD"]) == len(by_revision["workspace"]) == len(overlays) // 2 > 0, overlays
    # Back to the baseline: DVC restores training and evaluation from its run cache, but the
    # registration must really run again so that @challenger is the workspace's model.
    before = _registry(work).get_model_version_by_alias("sunspot-classifier", "challenger").version
    _run(["git", "checkout", "params.yaml"], work, env)
    assert "register" in _stages_run(_run(["dvc", "repro"], work, env))
    after = _registry(work).get_model_version_by_alias("sunspot-classifier", "challenger")
    assert int(after.version) > int(before)
    assert after.tags["run_id"] == json.loads((work / "models/classifier.json").read_text())["run_id"]


def _stages_run(result) -> set[str]:
    return {line.split("'")[1] for line in result.stdout.splitlines() if line.startswith("Running stage")}


def test_bad_input_stops_the_pipeline_with_a_clear_message(clone):
    work, env = clone
    mask = next((work / "data/raw").glob("*.HW.M.P.rdc.fits.gz"))
    mask.unlink()
    try:
        # -s: only this stage; a plain repro would first restore the deleted file from DVC's cache.
        result = subprocess.run(["dvc", "repro", "-s", "validate_raw"], cwd=work, env=env, capture_output=True,
                                text=True, timeout=300)
        output = result.stderr + result.stdout
        assert result.returncode != 0
        assert "every image has its mask" in output and mask.name[:13] in output  # the observation is named
        # The page named is this validation's own, which reads offline (the index's rows need a CDN).
        assert re.search(r"report: \S*reports/raw/data_docs/validations/\S+\.html", output), output
        assert "Traceback" not in output
    finally:
        _run(["dvc", "checkout", "--force", "data/raw"], work, env)


def test_mlflow_run_logs_the_stage_as_a_child_of_the_entry_run(clone):
    work, env = clone
    # Exactly as the README says: no tracking URI set, so MLflow's default (mlflow.db here) is used.
    _run([str(BIN / "mlflow"), "run", ".", "-e", "evaluate", "--env-manager", "local",
          "--experiment-name", "sunspotter"], work, env)
    client = _registry(work)
    experiment = client.get_experiment_by_name("sunspotter")
    children = [r for r in client.search_runs([experiment.experiment_id], "tags.stage = 'evaluate'")
                if "mlflow.parentRunId" in r.data.tags]
    assert children, "the evaluate stage under `mlflow run` has a parent run"
    parent = client.get_run(children[0].data.tags["mlflow.parentRunId"])
    assert parent.data.tags.get("mlflow.project.entryPoint") == "evaluate"
    assert "classifier_test_f1" in children[0].data.metrics


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mlflow_ui_serves_the_runs(clone):
    import urllib.request

    work, env = clone
    port = _free_port()
    ui = subprocess.Popen([str(BIN / "mlflow"), "ui", "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
                           "--host", "127.0.0.1", "--port", str(port)], cwd=work, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/get-by-name?experiment_name=sunspotter"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    experiment = json.load(reply)["experiment"]
                break
            except OSError:
                assert time.monotonic() < deadline, "mlflow ui did not answer within 60 s"
                time.sleep(1)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search", method="POST",
                                         data=json.dumps({"experiment_ids": [experiment["experiment_id"]]}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            names = {run["info"]["run_name"] for run in json.load(reply)["runs"]}
        assert {"train-classifier", "train-localizer", "evaluate"} <= names
    finally:
        ui.terminate()
        ui.wait(timeout=30)


def test_quarantine_policy_sets_the_bad_observation_aside_and_goes_on(clone):
    """Last in this module: it leaves the clone's tiles without one observation."""
    import pandas as pd

    work, env = clone
    params_path = work / "params.yaml"
    original = params_path.read_text()
    mask = sorted((work / "data/raw").glob("*.HW.M.P.rdc.fits.gz"))[0]
    mask.unlink()
    try:
        params = yaml.safe_load(original)
        params["validate"]["on_bad_file"] = "quarantine"
        params_path.write_text(yaml.safe_dump(params, sort_keys=False))
        _run(["dvc", "repro", "-s", "validate_raw"], work, env)
        summary = json.loads((work / "reports/raw/summary.json").read_text())
        assert summary["quarantined"]["observations"] == [mask.name[:13]]
        _run(["dvc", "repro", "-s", "tile"], work, env)
        observations = set(pd.read_parquet(work / "data/tiles/index.parquet")["observation"])
        assert mask.name[:13] not in observations and len(observations) == 7, "the other 7 observations are kept"
    finally:
        params_path.write_text(original)


def _lock_hashes(work) -> dict[str, str]:
    lock = yaml.safe_load((work / "dvc.lock").read_text())
    return {out["path"]: out.get("md5", "") for stage in lock["stages"].values() for out in stage.get("outs", [])}


def _kill_mid_stage(work, env, stage: str, seed: int) -> float:
    """Run one stage and SIGKILL it (DVC and the stage's process) at a random moment after its command starts."""
    import random
    import signal

    log = work / f".kill-{stage}.log"
    with log.open("w") as out:
        process = subprocess.Popen(["dvc", "repro", "--force", "--single-item", stage], cwd=work, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while "> python pipelines/" not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    delay = random.Random(seed).uniform(0.2, 1.5)
    time.sleep(delay)
    assert process.poll() is None, f"{stage} finished within {delay:.1f} s: nothing was interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    log.unlink()
    return delay


@pytest.mark.parametrize("stage, output", [("acquire", "data/raw"), ("tile", "data/tiles"),
                                           ("train@classifier", "metrics/train_classifier.json")])
def test_a_killed_stage_reruns_to_the_same_outputs(clone, stage, output):
    work, env = clone
    before = _lock_hashes(work)
    metrics_before = json.loads((work / "metrics/train_classifier.json").read_text())
    _kill_mid_stage(work, env, stage, seed=len(stage))
    _run(["dvc", "repro"], work, env)
    after = _lock_hashes(work)
    if stage == "train@classifier":  # the same metrics, given the seed
        metrics_after = json.loads((work / "metrics/train_classifier.json").read_text())
        assert metrics_after.keys() == metrics_before.keys()
        for name, value in metrics_before.items():
            assert metrics_after[name] == pytest.approx(value, abs=0.02), name
    else:  # byte-identical data
        assert after[output] == before[output]
    assert "Running stage" not in _run(["dvc", "repro"], work, env).stdout  # and nothing is left to do
