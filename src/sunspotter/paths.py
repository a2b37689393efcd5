"""Where each stage reads and writes, relative to the repo root; dvc.yaml declares the same paths."""

from pathlib import Path

RAW = Path("data/raw")
TILES = Path("data/tiles")
#: Where dust sits on the archive's detector (sunspotter.solar.dust_map); the full-disk localizer carries it.
DUST_MAP = Path("data/dust_map.fits.gz")
#: The test dates as other instruments record the Sun, one folder per profile (sunspotter.acquire.profiles).
PROFILES = Path("data/profiles")
#: Each profile folder's list of frames (observation, date, image, mask, conditions).
PROFILE_MANIFEST = "frames.csv"
MODELS = Path("models")
METRICS = Path("metrics")
REPORTS = Path("reports")
#: Whole-disk test images with true and predicted outlines (DVC image plots; sunspotter.evaluation.disk_overlays).
TEST_OVERLAYS = REPORTS / "evaluate" / "overlays"
#: The localizer packaged for whole images (an MLflow pyfunc folder): `sunspotter predict --model` it.
FULL_DISK_MODEL = MODELS / "full_disk_localizer"


def model_file(kind: str) -> Path:
    return MODELS / f"{kind}.keras"


def model_record(kind: str) -> Path:
    """JSON with the MLflow run id and logged-model URI of a trained model (read by evaluate and register)."""
    return MODELS / f"{kind}.json"


def validation_summary(suite: str) -> Path:
    return REPORTS / suite / "summary.json"


def data_docs(suite: str) -> Path:
    """great-expectations Data Docs (HTML) of a validation stage; open index.html in a browser."""
    return REPORTS / suite / "data_docs"
