"""Runs that tell the truth: each records its host and process; a stage that starts marks as KILLED the runs of
its own stage that a dead process of this host left RUNNING, and leaves every other run alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import mlflow
import pytest

from sunspotter.lifecycle import tracking

#: Starts a stage's run, prints its id, then dies at once (SIGKILL: no chance to end the run) or stays alive.
STAGE_PROCESS = """
import os, signal, sys, time
from sunspotter.lifecycle import tracking
stage, fate = sys.argv[1:]
with tracking.stage_run(stage) as run:
    print(run.info.run_id, flush=True)
    if fate == "dies":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(120)
"""


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    return tmp_path


def start(stage: str, fate: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-c", STAGE_PROCESS, stage, fate], stdout=subprocess.PIPE, text=True,
                               env=os.environ.copy())
    run_id = process.stdout.readline().strip()
    assert run_id, "the stage process did not start its run"
    if fate == "dies":
        process.wait(timeout=60)
    return process, run_id


def status(run_id: str) -> str:
    return tracking.client().get_run(run_id).info.status


def test_a_dead_run_of_the_stage_is_marked_and_every_other_run_left_alone(store):
    live_process, live = start("evaluate", "lives")  # first: a stage starting would mark the dead run itself
    _, dead = start("evaluate", "dies")
    _, other_stage = start("tile", "dies")
    # Left RUNNING by a process of another host: nothing here can tell whether it still runs.
    mlflow.set_tracking_uri(tracking.tracking_uri())
    experiment = mlflow.get_experiment_by_name(tracking.EXPERIMENT).experiment_id
    elsewhere = tracking.client().create_run(experiment, tags={"stage": "evaluate", tracking.HOST_TAG: "elsewhere",
                                                               tracking.PID_TAG: "1", tracking.STARTED_TAG: "0"})
    try:
        assert {status(run) for run in (dead, live, other_stage)} == {"RUNNING"}
        with tracking.stage_run("evaluate") as run:
            tags = run.data.tags
        assert tags[tracking.HOST_TAG] and tags[tracking.PID_TAG] == str(os.getpid())
        assert status(dead) == "KILLED" and "marked by the next evaluate run" in \
            tracking.client().get_run(dead).data.tags["killed"]
        assert status(live) == "RUNNING" and status(other_stage) == "RUNNING"
        assert status(elsewhere.info.run_id) == "RUNNING"
    finally:
        live_process.send_signal(signal.SIGKILL)
        live_process.wait(timeout=30)


def test_a_reused_process_id_is_not_taken_for_the_dead_process():
    me = tracking.this_process()
    assert tracking.process_alive(me[tracking.PID_TAG], me[tracking.STARTED_TAG])
    assert not tracking.process_alive(me[tracking.PID_TAG], "12.00")  # same id, another start: another process
    assert not tracking.process_alive("", "")
