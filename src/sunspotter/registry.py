"""The MLflow model registry: register a trained model, point ``@challenger`` at it, promote to ``@champion``."""

from __future__ import annotations

import logging

from sunspotter import tracking

log = logging.getLogger(__name__)
CHALLENGER, CHAMPION = "challenger", "champion"


class RegistryError(RuntimeError):
    """The registry cannot do what was asked (unknown model, no challenger, ...)."""


def register_challenger(name: str, model_uri: str, run_id: str, tags: dict[str, str]) -> int:
    """Register ``model_uri`` as a new version of ``name`` and point ``@challenger`` at it."""
    import mlflow

    mlflow.set_tracking_uri(tracking.tracking_uri())
    version = mlflow.register_model(model_uri, name, tags=tags)
    registry = tracking.client()
    registry.set_model_version_tag(name, version.version, "run_id", run_id)
    registry.set_registered_model_alias(name, CHALLENGER, version.version)
    log.info("registered %s version %s as @%s", name, version.version, CHALLENGER)
    return int(version.version)


def version_by_alias(name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return tracking.client().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def promote(name: str, version: int | None = None) -> int:
    """Move ``@champion`` to ``version`` (default: the ``@challenger``); return the promoted version."""
    from mlflow.exceptions import MlflowException

    registry = tracking.client()
    if version is None:
        challenger = version_by_alias(name, CHALLENGER)
        if challenger is None:
            raise RegistryError(f"model '{name}' has no @{CHALLENGER} version to promote (run `dvc repro` first)")
        version = int(challenger.version)
    try:
        registry.get_model_version(name, str(version))
    except MlflowException as err:
        raise RegistryError(f"model '{name}' has no version {version} in {tracking.tracking_uri()}") from err
    previous = version_by_alias(name, CHAMPION)
    registry.set_registered_model_alias(name, CHAMPION, str(version))
    registry.set_model_version_tag(name, str(version), "promoted_from",
                                   str(previous.version) if previous is not None else "none")
    return version
