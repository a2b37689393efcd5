"""Exposure: the MLflow UI the project starts listens on 127.0.0.1 only, and no credentials reach params.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess

import psutil
import pytest
import yaml

from sunspotter.config import ConfigError, load_params
from tests.conftest import REPO
from tests.local_servers import free_port, wait_until_answering


@pytest.mark.skipif(shutil.which("make") is None, reason="make is needed to start the UI as users do")
def test_make_ui_listens_on_loopback_only(tmp_path):
    port = free_port()
    # A throwaway database: `make ui` points at the repo's mlflow.db, which is left alone.
    server = subprocess.Popen(["make", "-s", "ui", f"UI_PORT={port}", f"CURDIR={tmp_path}"], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/health", server)
        listening = {c.laddr.ip for c in psutil.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port}
        assert listening == {"127.0.0.1"}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


@pytest.mark.parametrize("url", ["https://user:secret@lasp.colorado.edu/pspt_access",
                                 "https://lasp.colorado.edu/pspt_access?token=abc123"])
def test_credentials_in_params_are_refused(tmp_path, url):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["acquire"]["lasp"]["base_url"] = url
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="credentials do not belong in params.yaml") as refused:
        load_params(path)
    assert "secret" not in str(refused.value) and "abc123" not in str(refused.value)  # nor in the error
