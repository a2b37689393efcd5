"""Does the registered localizer carry itself? ``make check-model`` builds a fresh virtual environment from the
model's own record only (``python_env.yaml`` and ``requirements.txt``, nothing of this project), loads the model
there from its carried code and compares its masks with this environment's, on the model's input example and on a
full-resolution test frame.

Outside the test suite: it reads the registry and installs from the package index (a few minutes).

    python -m sunspotter.lifecycle.check_model [--model URI] [--image FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from sunspotter import paths
from sunspotter.lifecycle import tracking
from sunspotter.models.kinds import LOCALIZER

#: Run by the fresh environment's Python (argv: model folder, request parquet, answer parquet), away from this
#: project: the only sunspotter it can import is the one the model carries.
IN_FRESH_ENVIRONMENT = """
import sys
from pathlib import Path
import mlflow, pandas as pd
model, request, answer = map(Path, sys.argv[1:])
pyfunc = mlflow.pyfunc.load_model(str(model))
import sunspotter
assert Path(sunspotter.__file__).resolve().is_relative_to(model.resolve()), f"imported {sunspotter.__file__}"
pyfunc.predict(pd.read_parquet(request)).to_parquet(answer)
"""


class CheckFailed(RuntimeError):
    pass


def registered_localizer() -> str:
    """The localizer version the pipeline registered last (models/registry.json)."""
    record = paths.MODELS / "registry.json"
    if not record.is_file():
        raise CheckFailed(f"{record}: no registered model; run the pipeline (dvc repro) or pass --model URI")
    entry = json.loads(record.read_text())[LOCALIZER.name]
    return f"models:/{entry['name']}/{entry['version']}"


def download(uri: str, folder: Path) -> Path:
    import mlflow

    mlflow.set_tracking_uri(tracking.tracking_uri())
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(folder)))


def build_environment(model: Path, venv: Path) -> float:
    """A virtual environment with the Python version, build tools and requirements the model records; seconds."""
    record = yaml.safe_load((model / "python_env.yaml").read_text())
    wanted, have = str(record["python"]), ".".join(map(str, sys.version_info[:3]))
    if wanted.split(".")[:2] != have.split(".")[:2]:
        raise CheckFailed(f"{model / 'python_env.yaml'}: the model wants Python {wanted}; this is {have}")
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + list(record.get("build_dependencies", [])), check=True)
    subprocess.run(pip + ["-r", str(model / "requirements.txt")], check=True)
    return time.monotonic() - start


def request_for(model: Path, image: Path):
    """The model's own input example (when it has one), and ``image`` (a full-resolution frame) as a last row."""
    import mlflow
    import pandas as pd

    example = mlflow.models.Model.load(str(model)).load_input_example(str(model))
    return pd.concat([example, pd.DataFrame({"image": [image.read_bytes()], "date": [""]})], ignore_index=True)


def answer_elsewhere(venv: Path, model: Path, request, folder: Path):
    import pandas as pd

    request.to_parquet(folder / "request.parquet")
    result = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", IN_FRESH_ENVIRONMENT, str(model),
                             str(folder / "request.parquet"), str(folder / "answer.parquet")],
                            cwd=folder, capture_output=True, text=True,
                            env={"PATH": f"{venv / 'bin'}:{os.defpath}", "HOME": str(folder), "TF_CPP_MIN_LOG_LEVEL": "3",
                                 "PYTHONDONTWRITEBYTECODE": "1"})  # nothing written into the model's code
    if result.returncode != 0:
        raise CheckFailed(f"the model did not load or answer in {venv}:\n{result.stderr[-3000:]}")
    return pd.read_parquet(folder / "answer.parquet")


def mask(row) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(row["mask_png"]))))


def differences(here, there) -> list[str]:
    """What differs between two answers to the same request: masks, region counts."""
    found = []
    for number, (mine, theirs) in enumerate(zip(here.to_dict("records"), there.to_dict("records")), start=1):
        if not np.array_equal(mask(mine), mask(theirs)):
            found.append(f"image {number}: the masks differ in {int((mask(mine) != mask(theirs)).sum())} pixels")
        if mine["regions"] != theirs["regions"]:
            found.append(f"image {number}: {mine['regions']} regions here, {theirs['regions']} there")
    return found


def size_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def first_test_frame() -> Path:
    from sunspotter.dataset import tiles
    from sunspotter.dataset.frames import split_pairs

    pairs = split_pairs(paths.RAW, paths.TILES, channel=tiles.read_meta(paths.TILES).channels[0])
    return pairs[min(pairs)].images[0]


def check(uri: str, image: Path, work: Path) -> dict:
    import mlflow

    model = download(uri, work / "model")
    seconds = build_environment(model, work / "venv")
    request = request_for(model, image)
    there = answer_elsewhere(work / "venv", model, request, work)
    here = mlflow.pyfunc.load_model(str(model)).predict(request)
    found = differences(here, there)
    if found:
        raise CheckFailed(f"{uri}: the fresh environment answers otherwise:\n  " + "\n  ".join(found))
    return {"model": uri, "build_s": round(seconds, 1), "environment_mib": round(size_bytes(work / "venv") / 2**20),
            "regions": here["regions"].tolist()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="registry URI or model folder (default: the pipeline's registered localizer)")
    parser.add_argument("--image", type=Path, help="a full-disk image to compare on (default: the first test frame)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up lines, as in the CLI
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bar per file of the model
    work = args.keep or Path(tempfile.mkdtemp(prefix="sunspotter-check-model-"))
    try:
        figures = check(args.model or registered_localizer(), args.image or first_test_frame(), work)
    except (CheckFailed, FileNotFoundError, ValueError, subprocess.CalledProcessError) as err:
        print(f"check-model: FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"check-model: {figures['model']} loads from its own record and answers alike (regions "
          f"{figures['regions']}); environment built in {figures['build_s']} s, {figures['environment_mib']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
