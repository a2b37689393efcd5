"""`mlflow models serve` under load, on 127.0.0.1: one server (2 workers, a stated request timeout) gives each of
several concurrent requests its own image's mask, refuses a request over the size bound and a burst of malformed
ones with 4xx, and is still answering, with the same workers, afterwards."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from PIL import Image

from sunspotter.lifecycle.pyfunc import MAX_REQUEST_BYTES
from sunspotter.solar.solar_image import MAX_PIXELS
from tests.code.fulldisk.test_full_disk import CENTRE, pspt_file, sun
from tests.code.solar.test_hostile_files import card, header_only
from tests.local_servers import free_port, wait_until_answering

#: One worker per core of the 2-core machines, and the seconds a request may take before the server answers 504.
WORKERS, TIMEOUT_S = 2, 60


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def workers(self) -> set[int]:
        """Process ids of everything below `mlflow models serve` (uvicorn's supervisor and its workers)."""
        return {child.pid for child in psutil.Process(self.process.pid).children(recursive=True)}


@pytest.fixture(scope="module")
def server(saved_model, tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # serve execs uvicorn
    with log_path.open("w") as log:
        # A process group of its own: serve runs uvicorn and its workers as children, stopped with it even if serve dies.
        process = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(saved_model),
                                    "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port),
                                    "-w", str(WORKERS), "-t", str(TIMEOUT_S)],
                                   stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            wait_until_answering(f"http://127.0.0.1:{port}/ping", process, log=log_path)
            yield Server(f"http://127.0.0.1:{port}/invocations", process)
        finally:
            with contextlib.suppress(ProcessLookupError):  # the whole group already gone
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def other_image(tmp_path_factory) -> Path:
    """A second frame, its spot larger and in the south-east: a mask no answer to ``image_file`` could pass for."""
    spot = (CENTRE[0] - 80.0, CENTRE[1] - 50.0, 14.0)
    return pspt_file(tmp_path_factory.mktemp("other") / "20140105.1800.HW.R.P.rdc.fits.gz", sun(spot=spot))


@pytest.fixture(scope="module")
def expected_masks(saved_model, image_file, other_image) -> dict[Path, np.ndarray]:
    """Each image's mask as the same pyfunc gives it in this process."""
    import mlflow

    pyfunc = mlflow.pyfunc.load_model(str(saved_model))
    return {path: mask_of(pyfunc.predict(pd.DataFrame({"image": [path.read_bytes()]})).iloc[0])
            for path in (image_file, other_image)}


def mask_of(row) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(row["mask_png"]))))


def image_request(payload: bytes) -> bytes:
    return json.dumps({"dataframe_split": {"columns": ["image"],
                                           "data": [[base64.b64encode(payload).decode()]]}}).encode()


def post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S + 30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def png_bomb(side: int = 20000) -> bytes:
    """A black ``side`` x ``side`` greyscale PNG: 400 MB of pixels in about 1.7 MB of file (zlib level 1, for speed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(1)
    rows = bytes(side + 1) * 1000  # each row: filter byte 0, then its pixels
    pixels = b"".join(packer.compress(rows) for _ in range(side // 1000)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale, not interlaced
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_concurrent_requests_each_get_their_own_image_s_mask(server, image_file, other_image, expected_masks):
    files = [image_file, other_image] * 4
    with ThreadPoolExecutor(len(files)) as pool:
        answers = list(pool.map(lambda path: post(server.url, image_request(path.read_bytes())), files))
    assert [status for status, _ in answers] == [200] * len(files), [text[:300] for _, text in answers]
    for path, (_, text) in zip(files, answers):
        np.testing.assert_array_equal(mask_of(json.loads(text)["predictions"][0]), expected_masks[path])


def test_a_request_over_the_size_bound_is_refused(server):
    status, text = post(server.url, image_request(bytes(MAX_REQUEST_BYTES + 1)))
    assert status == 400 and f"more than the {MAX_REQUEST_BYTES} allowed" in json.loads(text)["message"]


#: Malformed requests and a phrase of what the server answers each; the picture bomb is over the pixel bound and
#: the FITS header claims 2048 x 2048 pixels over one block of data.
LYING_FITS = header_only(card("SIMPLE", "T"), card("BITPIX", "16"), card("NAXIS", "2"), card("NAXIS1", "2048"),
                         card("NAXIS2", "2048"), payload=bytes(2880))
MALFORMED = {"empty body": (lambda: b"", "valid JSON formatted string"),
             "not JSON": (lambda: b"hello", "valid JSON formatted string"),
             "not an image": (lambda: image_request(b"hello there"), "not a readable picture"),
             "picture bomb": (lambda: image_request(png_bomb()), f"20000 x 20000 pixels is more than the {MAX_PIXELS}"),
             "FITS header lying about its size": (lambda: image_request(LYING_FITS), "truncated")}


def test_a_burst_of_malformed_requests_is_refused_and_the_server_goes_on(server, image_file, expected_masks):
    workers = server.workers()
    bodies = {name: make() for name, (make, _) in MALFORMED.items()}
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = dict(zip(bodies, pool.map(lambda body: post(server.url, body), bodies.values())))
    for name, (status, text) in answers.items():
        assert status == 400 and MALFORMED[name][1] in text, f"{name}: {status} {text[:300]}"
    status, text = post(server.url, image_request(image_file.read_bytes()))
    assert status == 200
    np.testing.assert_array_equal(mask_of(json.loads(text)["predictions"][0]), expected_masks[image_file])
    assert server.process.poll() is None and server.workers() == workers  # no worker died or was replaced
