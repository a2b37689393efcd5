"""A stand-in for the LASP PSPT archive, on 127.0.0.1, with scriptable fault injection.

It speaks the protocol documented in :mod:`sunspotter.acquire.lasp` (``/list`` and ``/files/<name>`` under a
base path) and serves a dict ``{name: bytes}``. Faults are drawn from a seeded ``random.Random`` (so a
sequential client sees the same faults every run) or scripted per file, and are counted by kind.

Usage::

    with ArchiveServer(files, FaultInjector(rate=0.3, seed=1)) as server:
        download(ArchiveSettings(server.base_url, ...), ...)
        print(server.faults.counts, server.ranges_for(name))
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import struct
import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sunspotter.io import pspt

#: Every fault the injector knows. ``redirect_same`` is harmless (a same-origin redirect the client follows).
FAULT_KINDS = ("http_500", "http_503", "stall", "truncate", "reset", "wrong_size", "corrupt", "redirect_same")
#: Faults that make sense on a listing request.
LISTING_FAULTS = ("http_500", "http_503", "stall", "truncate", "reset")
#: Faults given at most once per file by the random draw ("the first attempt"), so the file can succeed.
ONCE_PER_FILE = ("wrong_size", "corrupt")
LISTING = "<listing>"


def make_files(start: str = "20140102", days: int = 4, filters: str = "RM", seed: int = 0,
               min_size: int = 50_000, max_size: int = 300_000) -> dict[str, bytes]:
    """Random payloads for ``days`` observations at 18:00 from ``start``, one file per filter letter."""
    rng = random.Random(seed)
    first = date(int(start[:4]), int(start[4:6]), int(start[6:]))
    files = {}
    for day in range(days):
        observation = pspt.Observation((first + timedelta(days=day)).strftime("%Y%m%d"), "1800")
        for letter in filters:
            files[observation.file_name(letter)] = rng.randbytes(rng.randint(min_size, max_size))
    return files


class FaultInjector:
    """Decides, per request, which fault (if any) the server injects, and counts them.

    Parameters
    ----------
    rate : float
        Probability that a request draws a random fault.
    kinds : iterable of str
        Faults the random draw picks from (see FAULT_KINDS).
    seed : int
        Seed of the ``random.Random`` behind every draw.
    stall_s : float
        How long a stalled reply sleeps mid-body before closing; make it longer than the client's timeout.
    """

    def __init__(self, rate: float = 0.0, kinds: Iterable[str] = FAULT_KINDS, seed: int = 0,
                 stall_s: float = 1.0) -> None:
        self.rate = rate
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.stall_s = stall_s
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._scripted: dict[str, deque[str | None]] = {}
        self._always: dict[str, str] = {}
        self._once_given: set[str] = set()

    def script(self, name: str, faults: Iterable[str | None]) -> None:
        """The next requests for ``name`` get these faults in order (None: no fault), before any random draw."""
        self._scripted.setdefault(name, deque()).extend(faults)

    def always(self, name: str, fault: str) -> None:
        """Every request for ``name`` gets ``fault``."""
        self._always[name] = fault

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def choose(self, name: str, redirected: bool = False) -> str | None:
        """The fault for this request of ``name`` (LISTING for a listing request), counted; None for none."""
        with self._lock:
            fault = self._pick(name, redirected)
            if fault:
                self.counts[fault] += 1
            return fault

    def cut(self, length: int) -> int:
        """Where to break a body of ``length`` bytes (always before its end)."""
        with self._lock:
            return int(length * self._random.uniform(0.0, 0.9))

    def _pick(self, name: str, redirected: bool) -> str | None:
        if name in self._always:
            return self._always[name]
        queue = self._scripted.get(name)
        if queue:
            return queue.popleft()
        draw, pick = self._random.random(), self._random.random()  # two draws always: a stable sequence
        if draw >= self.rate:
            return None
        allowed = [kind for kind in self.kinds if self._allowed(kind, name, redirected)]
        if not allowed:
            return None
        fault = allowed[int(pick * len(allowed))]
        if fault in ONCE_PER_FILE:
            self._once_given.add(name)
        return fault

    def _allowed(self, kind: str, name: str, redirected: bool) -> bool:
        if name == LISTING:
            return kind in LISTING_FAULTS
        if kind in ONCE_PER_FILE:
            return name not in self._once_given
        return not (kind == "redirect_same" and redirected)  # never loop redirects


@dataclass
class Request:
    """One request the server received: path, query, Range header, the fault it got, body bytes sent."""

    path: str
    query: str
    range: str | None
    fault: str | None
    name: str | None
    sent: int = 0


class ArchiveServer:
    """The stand-in archive: a ThreadingHTTPServer on 127.0.0.1 with an ephemeral port.

    Parameters
    ----------
    files : mapping of str to bytes
        What the archive holds.
    faults : FaultInjector, optional
        Fault policy; none injected when omitted.
    with_md5 : bool
        Put md5 sums in the listing.
    extra_entries : mapping of str to list of dict
        Raw entries added to the listing of a filter letter (hostile names, files the server lacks).
    redirect_files_to : str, optional
        Answer every file request with a 302 to this base URL (to test refused redirects).
    base_path : str
        Path under which the protocol is served, like LASP's ``/pspt_access``.
    """

    def __init__(self, files: Mapping[str, bytes], faults: FaultInjector | None = None, *, with_md5: bool = True,
                 extra_entries: Mapping[str, list[dict]] | None = None, redirect_files_to: str | None = None,
                 base_path: str = "/pspt_access") -> None:
        self.files = dict(files)
        self.faults = faults or FaultInjector()
        self.with_md5 = with_md5
        self.extra_entries = dict(extra_entries or {})
        self.redirect_files_to = redirect_files_to
        self.base_path = base_path.rstrip("/")
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0  # the ephemeral port, known once started (kept after stop, for messages)

    # -- lifecycle

    def start(self) -> ArchiveServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.archive = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="archive-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes stalled replies
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> ArchiveServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    # -- what happened

    def record(self, request: Request) -> Request:
        with self._lock:
            self.requests.append(request)
        return request

    def file_requests(self, name: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.name is not None and (name is None or r.name == name)]

    def ranges_for(self, name: str) -> list[str | None]:
        """The Range headers received for ``name``, in order."""
        return [r.range for r in self.file_requests(name)]

    def listing(self, start: str, end: str, letter: str) -> list[dict]:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
        entries = []
        for name in sorted(self.files):
            observation, found = pspt.parse_file_name(name)
            if found == letter and first <= date.fromisoformat(observation.iso_date) <= last:
                entry = {"name": name, "size": len(self.files[name])}
                if self.with_md5:
                    entry["md5"] = hashlib.md5(self.files[name]).hexdigest()
                entries.append(entry)
        return entries + list(self.extra_entries.get(letter, []))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def archive(self) -> ArchiveServer:
        return self.server.archive  # type: ignore[attr-defined]

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.close_connection = True
        url = urlsplit(self.path)
        prefix = self.archive.base_path
        if url.path == f"{prefix}/list":
            self._listing(url)
        elif url.path.startswith(f"{prefix}/files/"):
            self._file(url, unquote(url.path[len(prefix) + len("/files/"):]))
        else:
            self.recorded = self.archive.record(Request(url.path, url.query, self.headers.get("Range"), None, None))
            self._reply(404, b"not found\n")

    # -- endpoints

    def _listing(self, url) -> None:
        fault = self.archive.faults.choose(LISTING)
        self.recorded = self.archive.record(Request(url.path, url.query, None, fault, None))
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        try:
            entries = self.archive.listing(query["start"], query["end"], query["filter"])
        except (KeyError, ValueError):
            self._reply(400, b"need start, end (YYYY-MM-DD) and filter\n")
            return
        body = json.dumps({"files": entries}).encode()
        if not self._injected_before_body(fault, url):
            self._send(200, body, {"Content-Type": "application/json"}, fault)

    def _file(self, url, name: str) -> None:
        archive = self.archive
        data = archive.files.get(name)
        fault = None if data is None else archive.faults.choose(name, redirected="hop=" in url.query)
        self.recorded = archive.record(Request(url.path, url.query, self.headers.get("Range"), fault, name))
        if data is None:
            self._reply(404, f"no such file {name}\n".encode())
            return
        if archive.redirect_files_to:
            self._redirect(f"{archive.redirect_files_to}/files/{quote(name)}")
            return
        if self._injected_before_body(fault, url):
            return
        if fault == "wrong_size":  # this attempt serves another version of the file than the listing describes
            data = data + b"\0" * 1000 if len(data) % 2 else data[: len(data) // 2]
        status, first, last = _parse_range(self.headers.get("Range"), len(data))
        if status == 416:
            self._reply(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            return
        body = data[first:last + 1]
        if fault == "corrupt" and body:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        if status == 206:
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
        self._send(status, body, headers, fault)

    # -- faults and replies

    def _injected_before_body(self, fault: str | None, url) -> bool:
        """Serve a fault that replaces the whole reply; True if one was served."""
        if fault in ("http_500", "http_503"):
            self._reply(int(fault[-3:]), b"injected server error\n")
        elif fault == "reset":
            self._reset()
        elif fault == "redirect_same":
            query = f"{url.query}&hop=1" if url.query else "hop=1"
            self._redirect(f"{url.path}?{query}", status=307)
        else:
            return False
        return True

    def _send(self, status: int, body: bytes, headers: dict[str, str], fault: str | None) -> None:
        """Send a reply whose Content-Length is the full body; a stall or truncation sends only part of it."""
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body)), "Connection": "close"}.items():
            self.send_header(key, value)
        self.end_headers()
        if fault in ("stall", "truncate"):
            body = body[: self.archive.faults.cut(len(body))]
        self.wfile.write(body)
        self.wfile.flush()
        self.recorded.sent = len(body)
        if fault == "stall":
            self.archive.stopping.wait(self.archive.faults.stall_s)
        # After a stall or truncation the connection closes with the body unfinished.

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self._send(status, body, {"Content-Type": "text/plain", **(headers or {})}, None)

    def _redirect(self, location: str, status: int = 302) -> None:
        self._send(status, b"", {"Location": location}, None)

    def _reset(self) -> None:
        # SO_LINGER 0: closing sends RST instead of FIN, so the client sees a reset with no reply at all.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def _parse_range(header: str | None, size: int) -> tuple[int, int, int]:
    """(status, first, last) for a ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` header; 200 without one."""
    if not header or not header.startswith("bytes=") or "," in header:
        return 200, 0, size - 1
    first_text, _, last_text = header[len("bytes="):].strip().partition("-")
    try:
        if first_text:
            first = int(first_text)
            last = min(int(last_text), size - 1) if last_text else size - 1
        else:
            first, last = max(0, size - int(last_text)), size - 1
    except ValueError:
        return 200, 0, size - 1
    if first >= size or first > last:
        return 416, 0, -1
    return 206, first, last
