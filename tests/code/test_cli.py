"""The ``sunspotter`` command behaves: one version source, each error once, no traceback for a bad params
file, no tracking store made by a command that only reads one, and the gallery written where the user is."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version

import pytest

from sunspotter import cli
from tests.conftest import REPO


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A folder outside any repository, with no tracking URI set: where a physicist runs the command."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    return tmp_path


def test_version_comes_from_pyproject(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out.strip() == f"sunspotter {declared}" == f"sunspotter {version('sunspotter')}"


def test_each_bad_file_is_reported_once(elsewhere, capsys):
    from sunspotter.fulldisk.inference import FullDiskModel
    from sunspotter.lifecycle.pyfunc import save_full_disk_model
    from sunspotter.solar.solar_image import apparent_radius_arcsec
    from tests.code.fulldisk.test_full_disk import DATE, RADIUS, contrast_model, pspt_file, sun

    contrast_model().save(elsewhere / "localizer.keras")
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS)
    save_full_disk_model(model, elsewhere / "localizer.keras", elsewhere / "model")
    good = pspt_file(elsewhere / "20140105.1800.HW.R.P.rdc.fits.gz", sun())
    (elsewhere / "broken.fits").write_bytes(b"SIMPLE  = T" + b"\0" * 100)
    code = cli.main(["predict", "broken.fits", good.name, "--model", "model", "-o", "out"])
    captured = capsys.readouterr()
    assert code == 1 and captured.err.count("broken.fits") == 1, captured.err
    assert "1 of 2 images done" in captured.out and f"model: {elsewhere / 'model'}" in captured.out
    assert not (elsewhere / "mlflow.db").exists()


def test_read_only_commands_never_create_a_tracking_store(elsewhere, capsys):
    (elsewhere / "image.png").write_bytes(b"not really")
    assert cli.main(["predict", "image.png"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"no MLflow tracking store at {elsewhere / 'mlflow.db'}" in error, error
    (elsewhere / "params.yaml").write_text((REPO / "params.yaml").read_text())
    assert cli.main(["promote", "localizer"]) == 1
    assert "no MLflow tracking store at" in capsys.readouterr().err
    assert not (elsewhere / "mlflow.db").exists()


@pytest.mark.parametrize("params", [None, "train: [\n", "train: {classifier: {}}\n"],
                         ids=["missing", "not YAML", "incomplete"])
def test_a_bad_params_file_is_one_line_not_a_traceback(elsewhere, params):
    if params is not None:
        (elsewhere / "params.yaml").write_text(params)
    done = subprocess.run([sys.executable, "-m", "sunspotter.cli", "promote", "localizer"], cwd=elsewhere,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: params.yaml") and done.stderr.count("\n") == 1, done.stderr


def test_gallery_writes_where_the_user_is(elsewhere, tiny_archive, capsys):
    assert cli.main(["gallery", str(tiny_archive), "-n", "2"]) == 0
    assert (elsewhere / "gallery.png").stat().st_size > 0
