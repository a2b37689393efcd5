"""Serving under load: concurrent full-disk requests to `mlflow models serve` on 127.0.0.1, in one run.

Computes the reference answers first (the same pyfunc loaded in this process, one per distinct frame), then
starts `mlflow models serve` with the stated workers and request timeout, and sends:
- a warm-up of two requests per worker at once, not timed (uvicorn's workers share the socket, so a
  worker may miss its first);
- five requests one after another: the latency of a request alone (their median);
- N requests (raw 2048 x 2048 R frames of the test dates, cycled) from C client threads at once.
- then one request just over the size bound (MAX_REQUEST_BYTES of image bytes), which must be refused with 400.
Every other answer must be 200 and carry the reference's region count and mask, pixel for pixel. It prints wall time,
throughput, p50/p95 latency, throughput against one request alone, and the resident memory (RSS) of the server's
whole process tree (the CLI, uvicorn's supervisor and its workers), polled every 0.1 s: idle, peak, after the
load, and while the oversized request was parsed. The server is stopped, its whole process group, whatever happens.

    .venv/bin/python bench/serve_load.py [--model models/full_disk_localizer] [--requests 20] [--concurrency 20]
                                         [--workers 2] [--timeout 120]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _machine import cpu_model
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests.local_servers
from sunspotter import paths
from sunspotter.dataset import tiles
from sunspotter.lifecycle.pyfunc import MAX_REQUEST_BYTES
from sunspotter.solar.solar_image import MAX_PIXELS
from tests.local_servers import free_port, wait_until_answering  # noqa: E402

HOST = "127.0.0.1"


def frames_of_test_dates() -> list[Path]:
    """The raw frames of the test split's dates, in the tiles' first channel (the pipeline's inputs)."""
    meta = tiles.read_meta(paths.TILES)
    channel = meta.channels[0]
    return [path for date in meta.splits["test"] for path in sorted(paths.RAW.glob(f"{date}.*.{channel}.P.rdc.fits.gz"))]


def request_body(payload: bytes) -> bytes:
    return json.dumps({"dataframe_split": {"columns": ["image"],
                                           "data": [[base64.b64encode(payload).decode()]]}}).encode()


def post(url: str, body: bytes, timeout_s: float) -> tuple[int, float, bytes]:
    """Status, seconds from sending to the whole answer read, and the answer."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            status, content = answer.status, answer.read()
    except urllib.error.HTTPError as err:
        status, content = err.code, err.read()
    return status, time.perf_counter() - start, content


def decoded(row: dict) -> tuple[int, np.ndarray]:
    return row["regions"], np.asarray(Image.open(io.BytesIO(base64.b64decode(row["mask_png"]))))


class TreeMemory(threading.Thread):
    """Polls the summed RSS of a process and all its descendants; keeps the peak and the last sample."""

    def __init__(self, pid: int, every_s: float = 0.1):
        super().__init__(daemon=True)
        self.root, self.every_s = psutil.Process(pid), every_s
        self.peak = self.last = self.processes = 0
        self.stopped = threading.Event()

    def sample(self) -> int:
        total, count = 0, 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                total, count = total + process.memory_info().rss, count + 1
            except psutil.NoSuchProcess:  # a process that ended between listing and reading
                pass
        self.processes = max(self.processes, count)
        return total

    def run(self) -> None:
        while not self.stopped.wait(self.every_s):
            try:
                self.last = self.sample()
            except psutil.NoSuchProcess:
                return
            self.peak = max(self.peak, self.last)


def start_server(model: Path, port: int, workers: int, timeout_s: int, log) -> subprocess.Popen:
    """`mlflow models serve` in a process group of its own, so that stopping it stops uvicorn's workers too."""
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        "TF_CPP_MIN_LOG_LEVEL": "2"}  # serve execs uvicorn by name
    # -t sets MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT for the workers: past it a request is answered 504.
    return subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model),
                             "--env-manager", "local", "-h", HOST, "-p", str(port), "-w", str(workers),
                             "-t", str(timeout_s)], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    except ProcessLookupError:
        pass


def main(args) -> None:
    import mlflow

    frames = frames_of_test_dates()
    if not frames:
        sys.exit(f"no raw frames of the test dates in {paths.RAW}: run the pipeline (dvc repro) or dvc pull first")
    payloads = [path.read_bytes() for path in frames]
    chosen = [i % len(frames) for i in range(args.requests)]
    chosen_alone = [i % len(frames) for i in range(5)]
    bodies = [request_body(payload) for payload in payloads]

    start = time.perf_counter()
    pyfunc = mlflow.pyfunc.load_model(str(args.model))
    reference = [decoded(pyfunc.predict(pd.DataFrame({"image": [payload]})).iloc[0]) for payload in payloads]
    in_process_s = (time.perf_counter() - start) / len(frames)

    port = free_port()
    url = f"http://{HOST}:{port}/invocations"
    client_timeout_s = args.timeout + 60  # the server answers 504 first; the client only guards against a hang
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "serve.log"
        with log_path.open("w") as log:
            started = time.perf_counter()
            server = start_server(args.model, port, args.workers, args.timeout, log)
            try:
                wait_until_answering(f"http://{HOST}:{port}/ping", server, timeout_s=300, log=log_path)
                start_up_s = time.perf_counter() - started
                memory = TreeMemory(server.pid)
                memory.start()
                with ThreadPoolExecutor(2 * args.workers) as pool:  # warm-up
                    list(pool.map(lambda i: post(url, bodies[i], client_timeout_s), range(2 * args.workers)))
                idle = memory.sample()
                alone = [post(url, bodies[i], client_timeout_s) for i in chosen_alone]
                start = time.perf_counter()
                with ThreadPoolExecutor(args.concurrency) as pool:
                    answers = list(pool.map(lambda i: post(url, bodies[i], client_timeout_s), chosen))
                wall_s = time.perf_counter() - start
                time.sleep(1.0)  # let the poller see the tree settle
                after, load_peak = memory.sample(), memory.peak
                memory.peak = 0  # from here: what parsing one oversized request costs
                oversized = post(url, request_body(bytes(MAX_REQUEST_BYTES + 1)), client_timeout_s)
                time.sleep(0.5)
                oversized_peak = memory.peak
                memory.stopped.set()
                alive = server.poll() is None
            finally:
                stop(server)
        worker_errors = [line for line in log_path.read_text().splitlines() if "Traceback" in line or "died" in line]

    wrong = []
    for number, ((status, _, content), frame) in enumerate(zip(alone + answers, chosen_alone + chosen)):
        if status != 200:
            wrong.append(f"request {number}: HTTP {status} {content[:200]!r}")
            continue
        regions, mask = decoded(json.loads(content)["predictions"][0])
        if regions != reference[frame][0] or not np.array_equal(mask, reference[frame][1]):
            wrong.append(f"request {number} ({frames[frame].name}): {regions} regions, "
                         f"{int((mask != reference[frame][1]).sum())} pixels unlike the in-process answer")

    if oversized[0] != 400 or f"more than the {MAX_REQUEST_BYTES} allowed" not in oversized[2].decode():
        wrong.append(f"oversized request: HTTP {oversized[0]} {oversized[2][:300]!r}")

    single_s = float(np.median([seconds for _, seconds, _ in alone]))
    latencies = np.array([seconds for _, seconds, _ in answers])
    throughput = len(answers) / wall_s
    mib = 1024**2
    print(f"CPU: {cpu_model()}; model {args.model}")
    print(f"server: mlflow models serve -w {args.workers} -t {args.timeout} (MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT "
          f"{args.timeout} s) on {HOST}, up in {start_up_s:.1f} s; bounds: {MAX_REQUEST_BYTES // mib} MiB of image "
          f"bytes a request, {MAX_PIXELS} pixels an image")
    print(f"frames: {len(frames)} test-date raw frames (2048 x 2048 .fits.gz, {np.mean([len(p) for p in payloads]) / mib:.1f} "
          f"MiB each, {np.mean([len(b) for b in bodies]) / mib:.1f} MiB as a JSON request); in-process predict "
          f"{in_process_s:.2f} s a frame")
    print(f"one request alone: {single_s:.2f} s (median of 5: {', '.join(f'{s:.2f}' for _, s, _ in alone)})")
    print(f"{args.requests} requests from {args.concurrency} clients at once: wall {wall_s:.1f} s, throughput "
          f"{throughput:.3f} requests/s, latency p50 {np.percentile(latencies, 50):.1f} s, p95 "
          f"{np.percentile(latencies, 95):.1f} s, max {latencies.max():.1f} s")
    print(f"throughput x one request alone: {throughput * single_s:.2f} (1 = no gain from concurrency)")
    print(f"server process tree RSS ({memory.processes} processes): idle after warm-up {idle / mib:.0f} MiB, "
          f"peak {load_peak / mib:.0f} MiB, 1 s after the load {after / mib:.0f} MiB")
    print(f"one request of {MAX_REQUEST_BYTES + 1} image bytes: HTTP {oversized[0]} in {oversized[1]:.1f} s, tree "
          f"peak while it was parsed {oversized_peak / mib:.0f} MiB")
    print(f"server alive after the load: {alive}; tracebacks or dead workers in its log: {len(worker_errors)}")
    if wrong:
        sys.exit("answers not as expected:\n  " + "\n  ".join(wrong))
    print(f"all {len(alone) + len(answers)} image requests answered 200 and equal to the in-process predict (regions and mask)")


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=paths.FULL_DISK_MODEL)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2, one per core here)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds a request may take before a 504")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(parse(sys.argv[1:]))
