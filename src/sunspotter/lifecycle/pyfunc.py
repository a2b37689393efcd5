"""The localizer as an MLflow pyfunc that takes a whole solar image and returns its sunspot mask.

The same package serves ``mlflow models serve`` (a request carries the image file's bytes), ``sunspotter
predict`` and ``sunspotter.detect`` (which load it with ``lifecycle.model_source``); all three answer through
``fulldisk.detection``.
"""

from __future__ import annotations

import base64
import io
import json
import tempfile
from dataclasses import fields
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.io import atomic
from sunspotter.solar.solar_image import SolarImage

KERAS_ARTIFACT, SETTINGS_ARTIFACT, DUST_ARTIFACT = "keras_model", "settings", "dust_map"
#: Fields of FullDiskModel that travel as artifacts of their own, not as settings.
OWN_ARTIFACTS = ("keras_model", "dust_map")
#: File types told apart by their first bytes, so a request need not say what it carries.
MAGIC = ((b"SIMPLE  =", ".fits"), (b"\x1f\x8b", ".fits.gz"), (b"\x89PNG", ".png"), (b"\xff\xd8", ".jpg"),
         (b"\x00\x00\x00\x0cjP  ", ".jp2"), (b"\xff\x4f\xff\x51", ".j2k"))
#: The most image-file bytes one request may carry, all its rows together: an uncompressed 4096 x 4096 float32
#: FITS (HMI's size) is 64 MiB. A larger request is refused before any image in it is decoded.
MAX_REQUEST_BYTES = 80 * 1024**2


def suffix_for(payload: bytes) -> str:
    for magic, suffix in MAGIC:
        if payload.startswith(magic):
            return suffix
    return ".png"  # let the picture reader say what is wrong with it


def mask_png(mask: np.ndarray) -> str:
    """A mask as a base64 PNG (0 / 255), rows in the input's own order."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray((mask > 0).astype(np.uint8) * 255).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


class FullDiskLocalizer(mlflow.pyfunc.PythonModel):
    """Input: a DataFrame with an ``image`` column of file bytes (FITS, JPEG2000, PNG, JPG) and an optional
    ``date`` (ISO, for pictures). Output per image: the mask as a base64 PNG, region count, total area, how
    many called spots were set aside as dust on the detector, and the catalog's rows as JSON records (the
    columns of ``docs/catalog.md``)."""

    def load_context(self, context) -> None:
        import keras

        from sunspotter.solar import dust_map

        settings = json.loads(Path(context.artifacts[SETTINGS_ARTIFACT]).read_text())
        model = keras.models.load_model(context.artifacts[KERAS_ARTIFACT], compile=False)
        dust = dust_map.read(Path(context.artifacts[DUST_ARTIFACT])) if DUST_ARTIFACT in context.artifacts else None
        self.full_disk = FullDiskModel(model, **settings, dust_map=dust)
        self.fingerprint = self.full_disk.fingerprint()  # hashed once, not per request

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """A bad image (too big, unreadable, not a full disk) is refused with a message naming it: an MLflow
        invalid-parameter error, which ``mlflow models serve`` answers with HTTP 400 and goes on serving."""
        from mlflow.exceptions import MlflowException

        from sunspotter.fulldisk.detection import detect_image
        from sunspotter.solar.solar_image import read_solar_image

        payloads = list(model_input["image"])
        sizes = [len(p) if isinstance(p, bytes) else len(p) * 3 // 4 for p in payloads]  # base64 text: 4 for 3
        if sum(sizes) > MAX_REQUEST_BYTES:
            raise MlflowException.invalid_parameter_value(
                f"the request carries {sum(sizes)} bytes of images, more than the {MAX_REQUEST_BYTES} allowed")
        dates = model_input["date"] if "date" in model_input else [None] * len(payloads)
        rows = []
        for number, (payload, date) in enumerate(zip(payloads, dates), start=1):
            name = f"image {number} of {len(payloads)}"
            payload = payload if isinstance(payload, bytes) else base64.b64decode(payload)
            try:
                with tempfile.TemporaryDirectory() as folder:
                    path = Path(folder) / f"image{suffix_for(payload)}"
                    path.write_bytes(payload)
                    image = read_solar_image(path, date or None)
                detection = detect_image(image, self.full_disk, fingerprint=self.fingerprint)
            except ValueError as err:  # what the readers and the disk fit raise for a file they refuse
                reason = str(err).replace(f"{path}: ", "").replace(str(path), "the file")  # not our temporary name
                raise MlflowException.invalid_parameter_value(f"{name}: {reason}") from err
            figures = detection.summary()
            rows.append({"mask_png": mask_png(detection.mask), "regions": figures["regions"],
                         "total_area_msh": figures["total_area_msh"], "dust_set_aside": figures["dust_set_aside"],
                         "catalog": detection.catalog.to_json(orient="records")})
        return pd.DataFrame(rows)


def input_example(image: SolarImage, size: int = 512) -> pd.DataFrame:
    """A request as a physicist might send one, kept with the model: ``image`` as an 8-bit PNG quick-look about
    ``size`` pixels across, with its ``date`` (a picture carries none). About 150 kB."""
    from PIL import Image

    factor = max(1, min(image.data.shape) // size)
    rows, cols = (n // factor * factor for n in image.data.shape)
    binned = image.data[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    top_row_first = binned[::-1]  # a SolarImage's rows start at the bottom, as in FITS; a PNG's at the top
    grey = np.clip(top_row_first / np.percentile(top_row_first, 99.9) * 255, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="PNG")
    return pd.DataFrame({"image": [buffer.getvalue()], "date": [image.date.isoformat() if image.date else ""]})


def _signature():
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    return ModelSignature(inputs=Schema([ColSpec("binary", "image"), ColSpec("string", "date", required=False)]),
                          outputs=Schema([ColSpec("string", "mask_png"), ColSpec("long", "regions"),
                                          ColSpec("double", "total_area_msh"), ColSpec("long", "dust_set_aside"),
                                          ColSpec("string", "catalog")]))


#: Every distribution the pyfunc's code imports (its import closure in src/sunspotter, checked by
#: tests/code/lifecycle/test_pyfunc_requirements.py) and what sunpy needs to read every input the model takes:
#: its map extra, and glymur and lxml for JPEG2000. Pinned to this environment's versions when logged.
REQUIREMENTS = ("tensorflow", "keras", "mlflow", "numpy", "pandas", "scipy", "astropy", "sunpy[map]", "pillow",
                "glymur", "lxml", "tqdm", "pyyaml")


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name.split('[')[0])}" for name in REQUIREMENTS]


def _code(folder: Path) -> list[str]:
    """The sunspotter package's source, copied for the model to carry (no caches), as MLflow's ``code_paths``:
    a model loads and runs the code it was made with, wherever it goes."""
    import shutil

    package = Path(__file__).resolve().parents[1]
    shutil.copytree(package, folder / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return [str(folder / package.name)]


def _artifacts(model: FullDiskModel, keras_path: Path, folder: Path) -> dict[str, str]:
    from sunspotter.solar import dust_map

    settings = {f.name: getattr(model, f.name) for f in fields(model) if f.init and f.name not in OWN_ARTIFACTS}
    atomic.write_json(folder / "settings.json", settings)
    artifacts = {KERAS_ARTIFACT: str(keras_path), SETTINGS_ARTIFACT: str(folder / "settings.json")}
    if model.dust_map is not None:
        dust_map.write(folder / "dust_map.fits.gz", model.dust_map)
        artifacts[DUST_ARTIFACT] = str(folder / "dust_map.fits.gz")
    return artifacts


def save_full_disk_model(model: FullDiskModel, keras_path: Path, out_dir: Path,
                         example: pd.DataFrame | None = None) -> None:
    """Write the pyfunc to a folder (``sunspotter predict --model FOLDER`` and ``mlflow models serve -m``), with
    ``example`` (``input_example``) as its input example when given."""
    with tempfile.TemporaryDirectory() as folder, atomic.replacing(out_dir, folder=True) as staging:
        mlflow.pyfunc.save_model(str(staging), python_model=FullDiskLocalizer(), signature=_signature(),
                                 artifacts=_artifacts(model, keras_path, Path(folder)), input_example=example,
                                 pip_requirements=_requirements(), code_paths=_code(Path(folder)))


def log_full_disk_model(model: FullDiskModel, keras_path: Path, example: pd.DataFrame | None = None):
    """Log the pyfunc into the active run; return its ModelInfo."""
    with tempfile.TemporaryDirectory() as folder:
        return mlflow.pyfunc.log_model(name="full_disk_localizer", python_model=FullDiskLocalizer(),
                                       signature=_signature(), artifacts=_artifacts(model, keras_path, Path(folder)),
                                       input_example=example, pip_requirements=_requirements(),
                                       code_paths=_code(Path(folder)))
