"""The README's Python example runs as written, offline, on the files `make run` leaves (here: a synthetic
frame under the same name and a saved stand-in localizer)."""

from __future__ import annotations

import re

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.lifecycle.pyfunc import save_full_disk_model
from sunspotter.solar.solar_image import apparent_radius_arcsec
from tests.code.fulldisk.test_full_disk import DATE, RADIUS, contrast_model, pspt_file, sun
from tests.conftest import REPO


def readme_python_example() -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index("**In Python**"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    pspt_file(tmp_path / "data" / "raw" / "20140106.1800.HW.R.P.rdc.fits.gz", sun())
    contrast_model().save(tmp_path / "localizer.keras")
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS)
    save_full_disk_model(model, tmp_path / "localizer.keras", tmp_path / "models" / "full_disk_localizer")
    exec(compile(readme_python_example(), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "1 regions" in printed and "km2" in printed and "1 regions in the Map" in printed
