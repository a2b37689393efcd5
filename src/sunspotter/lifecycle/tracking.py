"""The one place that knows MLflow: tracking URI, runs, lineage tags and dataset inputs."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

EXPERIMENT = "sunspotter"
#: How long a remote tracking server may take to answer its health check before a stage gives up.
PROBE_TIMEOUT_S = 10


class TrackingUnavailable(RuntimeError):
    """The tracking server does not answer: the stage stops before doing any work."""


def repo_root() -> Path:
    """The project root: DVC's ``DVC_ROOT`` inside a stage, else the nearest folder holding dvc.yaml."""
    if os.environ.get("DVC_ROOT"):
        return Path(os.environ["DVC_ROOT"]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").exists():
            return folder
    return here


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else an absolute SQLite file in the repo (a relative one moves with cwd)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{repo_root() / 'mlflow.db'}"


def store_problem() -> str | None:
    """Why the tracking store cannot be read, or None. Commands that only read it (predict, promote) ask
    first: MLflow would create an empty SQLite file wherever the URI points."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        path = Path(uri.removeprefix("sqlite:///"))
        if not path.is_file():
            return (f"no MLflow tracking store at {path} (run `dvc repro` in the repository first, run this "
                    f"from the repository, or set MLFLOW_TRACKING_URI)")
    return None


def artifact_root() -> str:
    return (repo_root() / "mlartifacts").as_uri()


def check_reachable(uri: str) -> None:
    """Fail fast, with a clear message, when a remote tracking server is down: a stage would otherwise
    train for minutes and then lose its run on the first call, after MLflow's own retries."""
    if not uri.startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=PROBE_TIMEOUT_S) as answer:
            if answer.status == 200:
                return
            problem = f"HTTP {answer.status}"
    except urllib.error.HTTPError as err:
        problem = f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        problem = str(getattr(err, "reason", err))
    raise TrackingUnavailable(f"the MLflow tracking server {uri} does not answer ({problem}): start it, or unset "
                              f"MLFLOW_TRACKING_URI to log to {repo_root() / 'mlflow.db'}")


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root(), capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _experiment_id(mlflow) -> str:
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return mlflow.create_experiment(EXPERIMENT, artifact_location=artifact_root())
    return experiment.experiment_id


@contextlib.contextmanager
def stage_run(stage: str, model: str | None = None, tags: dict | None = None, system_metrics: bool = False):
    """Start the MLflow run of one stage, named ``<stage>-<model>``.

    With ``system_metrics``, MLflow samples CPU, memory (and GPU, with the gpu extra) into the run.
    Under ``mlflow run`` the entry run's id arrives in ``MLFLOW_RUN_ID``; every stage would resume and
    overwrite that run, so it is popped and the stage runs as its child, in the entry run's experiment.
    """
    import mlflow

    check_reachable(tracking_uri())
    mlflow.set_tracking_uri(tracking_uri())
    parent_id = os.environ.pop("MLFLOW_RUN_ID", None)
    if parent_id:
        experiment_id = mlflow.get_run(parent_id).info.experiment_id
    else:
        experiment_id = _experiment_id(mlflow)
    os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    name = f"{stage}-{model}" if model else stage
    mark_dead_runs(experiment_id, stage, model)
    all_tags = {"stage": stage, "git_commit": git_commit(), "dvc_exp": os.environ.get("DVC_EXP_NAME", "")} \
        | this_process()
    if model:
        all_tags["model"] = model
    all_tags.update(tags or {})
    with mlflow.start_run(run_name=name, experiment_id=experiment_id, parent_run_id=parent_id,
                          nested=bool(parent_id), tags=all_tags, log_system_metrics=system_metrics) as run:
        yield run


#: Tags that say which process a run belongs to: a run left RUNNING is dead when its process is gone.
HOST_TAG, PID_TAG, STARTED_TAG = "host", "pid", "process_started"


def this_process() -> dict[str, str]:
    """The host, process id and process start time (seconds since the epoch) of this process, as run tags:
    the start time tells a process from a later one that reused its id."""
    import socket

    import psutil

    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()),
            STARTED_TAG: f"{psutil.Process().create_time():.2f}"}


def process_alive(pid: str, started: str) -> bool:
    """Whether the process with this id and start time (``this_process``'s tags) still runs on this host."""
    import psutil

    try:
        return f"{psutil.Process(int(pid)).create_time():.2f}" == started
    except (psutil.NoSuchProcess, ValueError):
        return False


def mark_dead_runs(experiment_id: str, stage: str, model: str | None) -> list[str]:
    """Mark as KILLED the runs of this stage (and model) left RUNNING by a process of this host that no longer
    exists, so the UI shows them ended rather than running for ever; returns their ids. Runs of other stages,
    of other hosts (whose processes cannot be seen from here) and of live processes are left alone."""
    import socket

    host = socket.gethostname()
    query = f"attributes.status = 'RUNNING' and tags.stage = '{stage}' and tags.{HOST_TAG} = '{host}'"
    if model:
        query += f" and tags.model = '{model}'"
    registry = client()
    dead = [run for run in registry.search_runs([experiment_id], query)
            if not process_alive(run.data.tags.get(PID_TAG, ""), run.data.tags.get(STARTED_TAG, ""))]
    for run in dead:
        registry.set_tag(run.info.run_id, "killed", "its process ended without closing the run; marked by the next "
                                                    f"{stage} run")
        registry.set_terminated(run.info.run_id, status="KILLED")
    return [run.info.run_id for run in dead]


def dvc_hash(path: str) -> str:
    """The DVC hash (md5 of the directory listing) DVC recorded for ``path`` in dvc.lock, or '' if none yet."""
    import yaml

    lock = repo_root() / "dvc.lock"
    if not lock.exists():
        return ""
    stages = (yaml.safe_load(lock.read_text()) or {}).get("stages", {})
    for stage in stages.values():
        for out in stage.get("outs", []):
            if out.get("path") == path:
                return out.get("md5", "")
    return ""


def log_tiles_input(tiles_dir: Path, index) -> None:
    """Log the training tiles as the run's dataset input; its digest is DVC's hash of the tile folder."""
    import mlflow

    train_index = index[index["split"] == "train"].reset_index(drop=True)
    digest = dvc_hash(str(tiles_dir)) or "unversioned"
    dataset = mlflow.data.from_pandas(train_index, source=str(tiles_dir), targets="label", name="tiles", digest=digest)
    mlflow.log_input(dataset, context="training")


def client():
    """An MlflowClient on the project's one tracking URI."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri())


def log_metrics_to(run_id: str, metrics: dict[str, float], model_uri: str | None = None) -> None:
    """Add metrics to an earlier run (e.g. test metrics to the training run that made the model), and with
    ``model_uri`` (``models:/m-...``) to that logged model too, so the UI shows them on the model's page."""
    import time

    from mlflow.entities import Metric

    model_id = model_uri.removeprefix("models:/") if model_uri and model_uri.startswith("models:/m-") else None
    now = int(time.time() * 1000)
    client().log_batch(run_id, metrics=[Metric(name, float(value), now, 0, model_id=model_id, run_id=run_id)
                                        for name, value in metrics.items()])
