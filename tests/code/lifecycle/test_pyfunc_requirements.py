"""The registered localizer carries itself: its code, and requirements that cover every third-party package its
code imports (read from the source, lazy imports included), so it loads where sunspotter is not installed."""

from __future__ import annotations

import re
import sys
from importlib.metadata import packages_distributions

from sunspotter.lifecycle.pyfunc import REQUIREMENTS
from tests.code.source_imports import PACKAGE, closure, imports


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def test_requirements_cover_every_import_on_the_pyfuncs_code_path():
    start = PACKAGE / "lifecycle" / "pyfunc.py"
    imported = {name for path in closure(start) | {start} for name in imports(path)[1]}
    third_party = sorted(imported - set(sys.stdlib_module_names) - {"sunspotter"})
    distributions = packages_distributions()
    listed = {_normalised(name) for name in REQUIREMENTS}
    missing = {module: distributions.get(module, ["?"]) for module in third_party
               if not {_normalised(d) for d in distributions.get(module, [])} & listed}
    assert not missing, f"imported on the pyfunc's code path but not in pyfunc.REQUIREMENTS: {missing}"


def test_the_model_keeps_a_request_a_server_would_answer(tmp_path):
    """The input example (a quick-look picture and its date) is stored with the model as MLflow's serving
    example, and the model answers it as the server would, finding the spot of the frame it was made from."""
    import json

    import mlflow

    from sunspotter.fulldisk.inference import FullDiskModel
    from sunspotter.lifecycle.pyfunc import input_example, save_full_disk_model
    from sunspotter.solar.solar_image import apparent_radius_arcsec, read_solar_image
    from tests.code.fulldisk.test_full_disk import DATE, RADIUS, contrast_model, pspt_file, sun

    frame = read_solar_image(pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun()))
    example = input_example(frame, size=256)
    assert example["image"][0].startswith(b"\x89PNG") and example["date"][0] == DATE.isoformat()
    contrast_model().save(tmp_path / "localizer.keras")
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS)
    save_full_disk_model(model, tmp_path / "localizer.keras", tmp_path / "model", example)
    request = (tmp_path / "model" / "serving_input_example.json").read_text()
    assert json.loads(request)["dataframe_split"]["columns"] == ["image", "date"]
    answer = mlflow.models.validate_serving_input(str(tmp_path / "model"), request)
    assert answer["regions"].tolist() == [1]
