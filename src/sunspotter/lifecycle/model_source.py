"""Which full-disk localizer a user gets, and from where: the registry, a saved folder, or one already loaded.

``sunspotter predict`` and ``sunspotter.detect`` both come here, so the default is the same for both: the
registry's ``@champion``, else its ``@challenger`` (right after ``dvc repro`` nothing is promoted yet), else
the pipeline's own saved copy, and the answer says which it was. Looking a model up never creates a tracking
store: a missing SQLite file is a clear error naming where it was looked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sunspotter import paths
from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.lifecycle import tracking

#: The registered name of the full-disk localizer (params.yaml ``register.localizer``'s default).
REGISTERED_LOCALIZER = "sunspot-localizer"
#: Where a model is looked for when none is named, in order.
DEFAULT_ALIASES = ("champion", "challenger")


class ModelNotFound(LookupError):
    """No usable model where one was asked for; the message says where it looked and what to do."""


@dataclass(frozen=True)
class ModelSource:
    """A loaded full-disk localizer and where it came from."""

    model: FullDiskModel
    uri: str      # the registry URI asked for (models:/NAME@ALIAS), a folder, or "a model loaded by the caller"
    version: str  # the registry version, or "" outside the registry

    def describe(self) -> str:
        return f"{self.uri} (version {self.version})" if self.version else self.uri


def _from_registry(uri: str) -> ModelSource:
    import mlflow

    problem = tracking.store_problem()
    if problem:
        raise ModelNotFound(f"cannot load {uri}: {problem}")
    mlflow.set_tracking_uri(tracking.tracking_uri())
    try:
        loaded = mlflow.pyfunc.load_model(uri)
    except Exception as err:  # MLflow raises many kinds; all mean "no usable model at that URI"
        raise ModelNotFound(f"cannot load {uri}: {err}") from err
    version = _registry_version(uri)
    return ModelSource(loaded.unwrap_python_model().full_disk, uri, version)


def _registry_version(uri: str) -> str:
    """The version a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI points at now."""
    reference = uri.removeprefix("models:/")
    if "@" in reference:
        name, alias = reference.split("@", 1)
        return str(tracking.client().get_model_version_by_alias(name, alias).version)
    parts = reference.split("/")
    return parts[1] if len(parts) == 2 and parts[1].isdigit() else ""


def _from_folder(folder: Path) -> ModelSource:
    import mlflow

    if not (folder / "MLmodel").is_file():
        raise ModelNotFound(f"{folder}: not a saved full-disk model (no MLmodel file in it)")
    try:
        model = mlflow.pyfunc.load_model(str(folder)).unwrap_python_model().full_disk
    except Exception as err:  # a damaged folder can fail in MLflow, pickle or Keras
        raise ModelNotFound(f"{folder}: cannot load the saved model ({type(err).__name__}: {err})") from err
    return ModelSource(model, str(folder.resolve()), "")


def _default() -> ModelSource:
    """``@champion``, else ``@challenger``, else the pipeline's saved copy; the error lists all three."""
    problem = tracking.store_problem()
    tried = [problem] if problem else []
    for alias in () if problem else DEFAULT_ALIASES:
        try:
            return _from_registry(f"models:/{REGISTERED_LOCALIZER}@{alias}")
        except ModelNotFound as err:
            tried.append(str(err))
    saved = tracking.repo_root() / paths.FULL_DISK_MODEL
    if (saved / "MLmodel").is_file():
        return _from_folder(saved)
    tried.append(f"no saved model at {saved}")
    raise ModelNotFound("no model to use: " + "; ".join(tried) + ". Run `dvc repro` in the repository, or name "
                        "a model (a registry URI models:/NAME@ALIAS or a saved model folder)")


def load(model=None) -> ModelSource:
    """The localizer ``model`` names.

    Parameters
    ----------
    model : str, pathlib.Path, FullDiskModel, mlflow.pyfunc.PyFuncModel or None
        A registry URI (``models:/NAME@ALIAS`` or ``models:/NAME/VERSION``), a saved full-disk model folder,
        a model already loaded (a notebook loop loads it once), or None for the default: ``@champion``, else
        ``@challenger``, else the pipeline's ``models/full_disk_localizer``.

    Returns
    -------
    ModelSource
        The model with where it came from (``describe()`` says it).
    """
    if model is None:
        return _default()
    if isinstance(model, ModelSource):
        return model
    if isinstance(model, FullDiskModel):
        return ModelSource(model, "a model loaded by the caller", "")
    if hasattr(model, "unwrap_python_model"):
        return load(model.unwrap_python_model().full_disk)
    if str(model).startswith("models:/"):
        return _from_registry(str(model))
    if Path(model).is_dir():
        return _from_folder(Path(model))
    raise ModelNotFound(f"{model}: neither a registry URI (models:/NAME@ALIAS) nor a saved model folder")
