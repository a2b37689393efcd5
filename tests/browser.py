"""Open a local page in headless Chromium, as a person would, and say what it drew and what it fetched.

The page's DOM is read after its scripts ran (``--dump-dom``), and Chromium's network log says which requests
the page made: a page that works offline makes none that leave the machine. Host names are resolved to
nothing, so a request that would leave is attempted (and logged) but never sent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")
#: Requests the browser makes for itself (updates, sign-in) have no page as their initiator.
BROWSER_OWN = "not an origin"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pings", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", "--virtual-time-budget=15000")


@dataclass(frozen=True)
class Rendered:
    dom: str                  # the document after its scripts ran
    left_the_machine: list    # URLs the page asked for beyond this machine

    def count(self, fragment: str) -> int:
        return self.dom.count(fragment)


def chromium() -> str:
    """The Chromium executable, or skip the test saying how to get one."""
    found = next((shutil.which(name) for name in CHROMIUMS if shutil.which(name)), None)
    if found is None:
        pytest.skip("headless Chromium is not installed: `make setup` installs Debian's `chromium` where apt is "
                    "allowed (root or password-less sudo); elsewhere `apt-get install chromium`")
    return found


def open_page(page: Path, work: Path) -> Rendered:
    """Render ``page`` (a local HTML file); ``work`` holds the browser profile and the network log."""
    log = work / "netlog.json"
    result = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={work / 'profile'}", f"--log-net-log={log}",
                             "--dump-dom", Path(page).resolve().as_uri()],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return Rendered(result.stdout, _requests_leaving(log))


def _requests_leaving(log: Path) -> list[str]:
    events = json.loads(log.read_text())
    start_job = events["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    leaving = []
    for event in events["events"]:
        params = event.get("params") or {}
        if event["type"] != start_job or params.get("initiator") == BROWSER_OWN:
            continue
        url = params.get("url", "")
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).hostname not in LOOPBACK:
            leaving.append(url)
    return leaving
