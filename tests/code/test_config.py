
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sunspotter import cli
from sunspotter.config import ConfigError, load_params
from tests.conftest import REPO


def _write(tmp_path, change):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    change(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def test_repo_params_load():
    params = load_params(REPO / "params.yaml")
    assert params.base.tile_size == 128 and set(params.train) == {"classifier", "localizer"}


@pytest.mark.parametrize("change, message", [
    (lambda p: p["base"].update(tile_size=100), "multiple of"),
    (lambda p: p["train"]["classifier"].update(epoch=3), r"unknown \['epoch'\]"),
    (lambda p: p["tile"]["split"].update(train=0.9), r"section 'tile.split': missing \[\], unknown \['train'\]"),
    (lambda p: p["tile"]["split"].update(val=0.5, test=0.5), "leave some to train on"),
    (lambda p: p["tile"]["split"].update(gap_days=-1), "gap_days >= 0"),
    (lambda p: p["full_disk"].update(overlap=100), r"full_disk.overlap must be in \[0, base.tile_size / 2\]"),
    (lambda p: p.pop("evaluate"), "section 'evaluate' must be a mapping"),
    (lambda p: p["full_disk"].update(edge_grow=0.95, edge_trim=0.9), "edge_grow <= edge_trim"),
    (lambda p: p["train"]["localizer"].update(focal_gamma=-1), r"train.localizer.focal_gamma must be in \[0, 5\]"),
    (lambda p: p["train"]["localizer"].update(quicklook_scale=0.5), r"quicklook_scale in \[1, 10\]"),
    (lambda p: p["train"]["classifier"].update(small_spot_weight=5), "classifier.small_spot_weight must be 0"),
    (lambda p: p["train"]["localizer"].update(small_spot_weight=-1), r"localizer.small_spot_weight must be in \[0, 100\]"),
    (lambda p: p["train"]["classifier"].update(contrast_gamma=1.5), r"train.classifier.contrast_gamma must be in \[0, 1\)"),
    (lambda p: p["profiles"]["blue_409nm"].update(format="tiff"), r"profiles.blue_409nm.format must be one of"),
    (lambda p: p["profiles"]["blue_409nm"].update(arcsec_per_px="2"), r"profiles.blue_409nm.arcsec_per_px must be a number"),
    (lambda p: p["profiles"].update({"hmi 0.5": p["profiles"]["blue_409nm"]}), "a profile name is letters"),
    (lambda p: p["profiles"]["blue_409nm"].pop("photons"), r"section 'profiles.blue_409nm': missing \['photons'\]"),
    (lambda p: p["evaluate"].update(stara_arcsec_per_px=9), r"evaluate.stara_arcsec_per_px must be a number in \[0, 5\]"),
])
def test_bad_params_are_named(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        load_params(_write(tmp_path, change))


@pytest.mark.parametrize("change, message", [
    (lambda p: p["train"]["localizer"].update(learning_rate="1e-3"),
     r"^params.yaml: train.localizer.learning_rate must be a number, found text '1e-3' \(write 0.001: "),
    (lambda p: p["train"]["classifier"].update(epochs="30"),
     r"^params.yaml: train.classifier.epochs must be a whole number, found text '30' \(write it without quotes"),
    (lambda p: p["train"]["classifier"].update(epochs=30.5), r"epochs must be a whole number, found number 30.5$"),
    (lambda p: p["base"].update(seed=True), r"base.seed must be a whole number, found true/false True$"),
    (lambda p: p["train"]["localizer"].update(augment="on"), r"train.localizer.augment must be true or false"),
    (lambda p: p["train"]["localizer"].update(filters="8,16"), r"filters must be a list of whole numbers"),
    (lambda p: p["tile"].update(channels=["R", 7]), r"tile.channels must be a list of text items"),
    (lambda p: p["acquire"].update(start_date=dt.date(2014, 1, 2)),
     r"acquire.start_date must be text, found date 2014-01-02 \(put it in quotes"),
    (lambda p: p["tile"]["split"].update(val=None), r"tile.split.val must be a number, found nothing$"),
    (lambda p: p["evaluate"].update(stara_thresholds=[0.1, "x"]), r"stara_thresholds must be a list of numbers"),
    (lambda p: p["register"].update(gates=[1]), r"register.gates must be a mapping, found list \[1\]$"),
])
def test_wrong_types_are_one_line_naming_key_expected_and_found(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load_params(_write(tmp_path, change))
    assert "\n" not in str(caught.value)


def test_a_whole_number_where_a_number_is_asked_is_fine(tmp_path):
    params = load_params(_write(tmp_path, lambda p: p["train"]["localizer"].update(learning_rate=1)))
    assert params.train["localizer"].learning_rate == 1


def test_wrong_type_stops_a_stage_and_the_cli_with_one_line_and_exit_1(tmp_path, capsys):
    _write(tmp_path, lambda p: p["train"]["classifier"].update(epochs="30"))
    line = "error: params.yaml: train.classifier.epochs must be a whole number"
    # evaluate reads params.yaml only after the models: stage_main checks it before anything else.
    stage = subprocess.run([sys.executable, str(REPO / "pipelines" / "evaluate.py")], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    # TensorFlow's import notices may come first; the error is the last line, and no traceback.
    assert stage.returncode == 1 and stage.stderr.strip().splitlines()[-1].startswith(line), stage.stderr
    assert "Traceback" not in stage.stderr and [p.name for p in tmp_path.iterdir()] == ["params.yaml"]
    assert cli.main(["promote", "localizer", "--params", str(tmp_path / "params.yaml")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(line) and len(err.splitlines()) == 1


def test_every_stage_script_runs_under_stage_main():
    """stage_main is what checks params.yaml first and turns a user error into one line and exit 1."""
    for script in sorted((REPO / "pipelines").glob("*.py")):
        assert "@stage_main\ndef main(" in script.read_text(), f"{script.name}: main is not wrapped by stage_main"


def test_missing_params_file_is_clear(tmp_path):
    with pytest.raises(ConfigError, match="cannot read params"):
        load_params(tmp_path / "nope.yaml")


def test_run_params_are_named_by_their_params_yaml_path_and_hold_its_values():
    import yaml

    from sunspotter.config import as_run_params

    params = load_params()
    raw = yaml.safe_load(Path("params.yaml").read_text())
    logged = (as_run_params("tile", params.tile) | as_run_params("acquire", params.acquire, skip=("lasp",))
              | as_run_params("train.localizer", params.train["localizer"])
              | as_run_params("base", params.base, only=("seed",)))
    assert "tile.split.gap_days" in logged and "acquire.synthetic.cloud_rate" in logged
    assert not any(name.startswith("acquire.lasp") for name in logged) and list(as_run_params("base", params.base,
                                                                                               only=("seed",))) == ["base.seed"]
    for name, value in logged.items():
        node = raw
        for part in name.split("."):
            node = node[part]
        assert node == value, name
