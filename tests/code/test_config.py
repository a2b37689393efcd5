
import pytest
import yaml

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


def test_missing_params_file_is_clear(tmp_path):
    with pytest.raises(ConfigError, match="cannot read params"):
        load_params(tmp_path / "nope.yaml")
