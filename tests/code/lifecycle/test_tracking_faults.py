"""Tracking server faults, against a real `mlflow server` on 127.0.0.1 that the tests start and stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.local_servers import free_port, wait_until_answering

BIN = Path(sys.executable).parent


class Server:
    """An MLflow tracking server with a SQLite store in a temporary folder, bound to 127.0.0.1."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None
        self.uri = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port),
             "--backend-store-uri", f"sqlite:///{self.folder / 'mlflow.db'}",
             "--artifacts-destination", str(self.folder / "artifacts"), "--workers", "1"],
            stdout=(self.folder / "server.log").open("a"), stderr=subprocess.STDOUT, env=env)
        wait_until_answering(f"{self.uri}/health", self.process, log=self.folder / "server.log")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path)
    running.start()
    yield running
    running.stop()


def test_stage_logs_to_a_live_server(server, monkeypatch):
    import mlflow

    from sunspotter.lifecycle import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    with tracking.stage_run("probe") as run:
        mlflow.log_metric("answer", 42)
    assert tracking.client().get_run(run.info.run_id).data.metrics["answer"] == 42


def test_training_stops_at_once_when_the_server_is_down(server):
    server.stop()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    env["MLFLOW_TRACKING_URI"] = server.uri
    start = time.monotonic()
    result = subprocess.run([sys.executable, "pipelines/train.py", "classifier"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    assert f"the MLflow tracking server {server.uri} does not answer" in result.stderr
    assert "Traceback" not in result.stderr
    assert elapsed < 60, f"took {elapsed:.0f} s to notice"


def test_metrics_logged_while_the_server_restarts_are_kept(server, monkeypatch):
    """The server drops every connection for a few seconds mid-run (stopped, then started again): the metric
    logged meanwhile is retried until the server is back, and the run keeps every value."""
    import threading

    import mlflow

    from sunspotter.lifecycle import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    with tracking.stage_run("probe") as run:
        mlflow.log_metric("val_loss", 0.5, step=0)
        server.stop()
        restart = threading.Timer(3.0, server.start)
        restart.start()
        mlflow.log_metric("val_loss", 0.4, step=1)  # sent while nothing listens
        restart.join()
        mlflow.log_metric("val_loss", 0.3, step=2)
    history = tracking.client().get_metric_history(run.info.run_id, "val_loss")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [(0, 0.5), (1, 0.4), (2, 0.3)]
