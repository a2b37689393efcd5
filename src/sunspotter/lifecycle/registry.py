"""The MLflow model registry: register a trained model, point ``@challenger`` at it, promote to ``@champion``.

Promotion is gated: the challenger must reach every gate in ``params.yaml`` (``register.gates``) and be
no worse than the current champion on the gated metrics, measured on the same test data (the same DVC
hash of ``data/tiles``). ``force`` overrides with a reason; every promotion is recorded on the version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import logging
from pathlib import Path

from sunspotter.lifecycle import tracking

log = logging.getLogger(__name__)
CHALLENGER, CHAMPION = "challenger", "champion"


DATA_TAG = "tiles_dvc_hash"


class RegistryError(RuntimeError):
    """The registry cannot do what was asked (unknown model, no challenger, ...)."""


class PromotionRefused(RegistryError):
    """The challenger failed a gate or is worse than the champion; the message lists why."""


def gate_failures(metrics: dict[str, float], gates: dict[str, float]) -> list[str]:
    """Gates are ``min_<metric>`` (at least) or ``max_<metric>`` (at most); a missing metric fails its gate."""
    failures = []
    for gate, bound in gates.items():
        kind, metric = gate.split("_", 1)
        value = metrics.get(metric)
        if value is None:
            failures.append(f"{metric} was not measured (gate {gate} = {bound})")
        elif (value < bound) if kind == "min" else (value > bound):
            failures.append(f"{metric} = {value:.4g} is {'below' if kind == 'min' else 'above'} the gate {bound}")
    return failures


def worse_than(challenger: dict[str, float], champion: dict[str, float], gates: dict[str, float]) -> list[str]:
    """Gated metrics on which the challenger is worse than the champion."""
    worse = []
    for gate in gates:
        kind, metric = gate.split("_", 1)
        if metric in challenger and metric in champion:
            if (challenger[metric] < champion[metric]) if kind == "min" else (challenger[metric] > champion[metric]):
                worse.append(f"{metric} = {challenger[metric]:.4g} is worse than the champion's {champion[metric]:.4g}")
    return worse


def version_metrics(version) -> dict[str, float]:
    """The test metrics a version was registered with (its numeric tags)."""
    metrics = {}
    for key, value in version.tags.items():
        try:
            metrics[key] = float(value)
        except ValueError:
            continue
    return metrics


def register_challenger(name: str, model_uri: str, run_id: str, tags: dict[str, str], description: str = "") -> int:
    """Register ``model_uri`` as a new version of ``name`` (``description``: its model card) and point
    ``@challenger`` at it."""
    import mlflow

    mlflow.set_tracking_uri(tracking.tracking_uri())
    version = mlflow.register_model(model_uri, name, tags=tags)
    registry = tracking.client()
    if description:
        registry.update_model_version(name, version.version, description=description)
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


def promote(name: str, gates: dict[str, float], version: int | None = None, force_reason: str | None = None) -> int:
    """Move ``@champion`` to ``version`` (default: the ``@challenger``) if it passes ``gates`` and is not worse
    than the champion on the same test data; ``force_reason`` overrides a refusal. Returns the promoted version."""
    from mlflow.exceptions import MlflowException

    registry = tracking.client()
    if version is None:
        challenger = version_by_alias(name, CHALLENGER)
        if challenger is None:
            raise RegistryError(f"model '{name}' has no @{CHALLENGER} version to promote (run `dvc repro` first)")
        version = int(challenger.version)
    try:
        candidate = registry.get_model_version(name, str(version))
    except MlflowException as err:
        raise RegistryError(f"model '{name}' has no version {version} in {tracking.tracking_uri()}") from err
    with _one_promotion_at_a_time(name):
        return _decide_and_move(registry, name, candidate, gates, force_reason)


@contextlib.contextmanager
def _one_promotion_at_a_time(name: str):
    """Serialise promotions of one model: reading the champion, judging the challenger against it and moving
    the alias happen under one lock, so two promotions at once cannot both judge against the same old champion.
    The lock is a file beside a SQLite store; a remote tracking server offers none (see the README)."""
    uri = tracking.tracking_uri()
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    with open(Path(uri.removeprefix("sqlite:///") + f".{name}.promotion.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _decide_and_move(registry, name: str, candidate, gates: dict[str, float], force_reason: str | None) -> int:
    version = int(candidate.version)
    previous = version_by_alias(name, CHAMPION)
    reasons = gate_failures(version_metrics(candidate), gates)
    if previous is not None and previous.version != candidate.version:
        if previous.tags.get(DATA_TAG) != candidate.tags.get(DATA_TAG):
            reasons.append(f"the champion (version {previous.version}) was tested on other data "
                           f"({DATA_TAG} {previous.tags.get(DATA_TAG)} vs {candidate.tags.get(DATA_TAG)}): not comparable")
        else:
            reasons += worse_than(version_metrics(candidate), version_metrics(previous), gates)
    if reasons and not force_reason:
        raise PromotionRefused(f"{name} version {version} not promoted: " + "; ".join(reasons))
    registry.set_registered_model_alias(name, CHAMPION, str(version))
    now = dt.datetime.now(dt.timezone.utc)
    record = {"at": now.isoformat(timespec="seconds"), "by": getpass.getuser(),
              "from_version": str(previous.version) if previous is not None else None, "gates": gates,
              "refusals_overridden": reasons, "force_reason": force_reason}
    registry.set_model_version_tag(name, str(version), "promoted_from",
                                   str(previous.version) if previous is not None else "none")
    # One tag per promotion, so a version promoted twice keeps both records.
    registry.set_model_version_tag(name, str(version), f"promotion_{now:%Y%m%dT%H%M%S%fZ}", json.dumps(record))
    return version
