"""Tiling on a Dask cluster run as a cluster runs: a scheduler and two workers, each its own process on
127.0.0.1, found through ``tile.dask_scheduler``; the same bytes as one process, even when a worker is killed
in the middle of the stage (the scheduler gives its tasks to the other, and a task rewrites its part whole)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sunspotter.acquire.synth.archive import write_archive
from sunspotter.dataset import tiles
from tests.conftest import TINY, TINY_SPLIT

DASK = Path(sys.executable).parent / "dask"
SPEC = tiles.TileSpec(tile_size=32, stride=32, min_disk_fraction=0.0, channels=("R",), normalisation="quiet_sun")


def _wait(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path):
    """(scheduler address, worker processes): a scheduler and two single-threaded workers without nannies, so
    a killed worker stays dead as a lost machine would."""
    from distributed import Client

    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    processes = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", info,
                                   *common], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait(lambda: info.is_file() and info.stat().st_size > 0, "scheduler file")
        address = json.loads(info.read_text())["address"]
        workers = [subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                                     *common], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        processes += workers
        with Client(address) as client:
            _wait(lambda: len(client.scheduler_info()["workers"]) == 2, "two workers")
        yield address, workers
    finally:
        for process in reversed(processes):
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def longer_archive(tmp_path_factory) -> Path:
    """Sixteen days: enough tasks that the stage is still running when a worker dies."""
    out = tmp_path_factory.mktemp("raw16")
    write_archive(replace(TINY, n_days=16, filters=("R",)), out, progress=False)
    return out


def _tile(pairs, out: Path, client=None) -> dict[str, bytes]:
    tiles.write_tiles(pairs, out, SPEC, split=TINY_SPLIT, shards_per_split=2, seed=0, client=client, progress=False)
    return {path.name: path.read_bytes() for path in out.iterdir()}


def test_an_external_cluster_gives_the_same_bytes_as_one_process(tiny_archive, cluster, tmp_path):
    address, _ = cluster
    pairs = tiles.find_pairs(tiny_archive, ["R"])
    with tiles.dask_client(scheduler=address) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        on_cluster = _tile(pairs, tmp_path / "cluster", client)
    assert on_cluster == _tile(pairs, tmp_path / "local")


def test_a_worker_killed_mid_stage_leaves_the_same_bytes(longer_archive, cluster, tmp_path):
    address, workers = cluster
    pairs = tiles.find_pairs(longer_archive, ["R"])
    expected = _tile(pairs, tmp_path / "local")
    outcome = {}

    def stage():
        with tiles.dask_client(scheduler=address) as client:
            outcome["tiles"] = _tile(pairs, tmp_path / "cluster", client)

    running = threading.Thread(target=stage)
    running.start()
    # Kill one worker as soon as the first observation's tiles are written (in the hidden staging folder that
    # io.atomic.replacing renames into place at the end): the rest is still to do.
    _wait(lambda: any(path.is_file() for path in tmp_path.glob(".cluster.*/cluster/**/*")), "tiles written")
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(timeout=30)
    assert running.is_alive(), "the stage had finished before the worker was killed: nothing was tested"
    running.join(timeout=300)
    assert outcome["tiles"] == expected
