"""Download PSPT image/mask pairs from the LASP archive (``pspt_access``) or a server speaking its protocol.

The real archive cannot be reached from the build machines, so this client is written against a small
HTTP protocol that we define here and that ``tests/archive_server.py`` implements (with fault injection).

Protocol
--------
Listing
    ``GET {base_url}/list?start=YYYY-MM-DD&end=YYYY-MM-DD&filter=<R|B|K|M>`` answers 200 with JSON
    ``{"files": [{"name": "20140102.1800.HW.R.P.rdc.fits.gz", "size": 12345, "md5": "<hex>"}, ...]}``:
    the files of that filter observed in the inclusive date range. ``md5`` may be omitted.
File
    ``GET {base_url}/files/{name}``. The client always sends ``Range: bytes=a-b`` and expects 206 with
    ``Content-Range: bytes a-b/<size>``; a plain 200 with the whole body is accepted only for a file that
    fits in one request and is fetched from its first byte.

Client behaviour
----------------
* For each image filter asked for, plus ``M`` (masks), the listing is fetched; only complete image/mask
  pairs are downloaded. An image without its mask (or a mask without any image) is recorded in the
  manifest under ``skipped`` with the reason, never silently dropped.
* No request asks for more than ``max_request_bytes`` (LASP historically allowed 200 MB per request), so
  big files come in several Range requests. Data is written to ``out_dir/.<name>.part`` and a later run
  resumes from where that file stops.
* 5xx, 408, 429, timeouts (a read timeout also catches a server that stalls mid-body), connection
  resets/refusals and truncated bodies are retried with exponential backoff, at most ``max_retries`` times
  per request (the count restarts once a request succeeds). Other 4xx fail at once.
* A finished ``.part`` is checked against the listed size (and md5 when listed). A mismatch discards it
  and starts the file again (also at most ``max_retries`` times). Only a verified file is renamed, with
  ``os.replace``, to its final name; a file already there with the right size (and md5) is kept.
* Safety: listing names must be plain PSPT file names (no ``/``, ``\\``, ``..`` or absolute paths), and
  no request or redirect may leave the scheme, host and port of ``base_url``.

Outputs
-------
``out_dir/manifest.json``
    Deterministic for a given file set (sorted, no timestamps, no retry counts) so that its hash is stable
    for DVC: ``base_url``, ``start``, ``end``, ``filters``, ``files`` (name, observation, filter, size, md5
    computed locally), ``pairs`` (observation, filter, image, mask) and ``skipped`` (name, observation,
    filter, reason).
``out_dir/download_log.json``
    What this run did: retries by kind, files downloaded, files already present, bytes received and the
    error that stopped the run, if any. Written even when the run fails.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

from tqdm import tqdm

from sunspotter.io import atomic, pspt

log = logging.getLogger(__name__)

IMAGE_FILTERS = ("R", "B", "K")
MASK_FILTER = "M"
#: Kinds of failure that are retried, as counted in ``download_log.json``.
RETRY_KINDS = ("http_5xx", "http_408_429", "timeout", "reset", "truncated", "bad_size_md5")
MANIFEST_NAME, LOG_NAME = pspt.MANIFEST_NAME, pspt.DOWNLOAD_LOG_NAME

_READ_CHUNK = 64 * 1024
_MAX_REDIRECTS = 5
_MAX_LISTING_BYTES = 64 * 1024**2
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_HEADERS = {"User-Agent": "sunspotter-archive/0.1", "Accept-Encoding": "identity", "Connection": "close"}

T = TypeVar("T")


class ArchiveError(RuntimeError):
    """The archive could not be used as asked; the message names the file or URL and the rule."""


class UnsafeArchiveError(ArchiveError):
    """Refused for safety: a name that could escape ``out_dir``, or a URL off the configured server."""


class DownloadError(ArchiveError):
    """A request or file failed for good: retries spent, or an error that retrying cannot fix.

    Attributes
    ----------
    name : str
        The file (or listing) that failed.
    reason : str
        What went wrong, including the last failure when retries were spent.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class ArchiveSettings:
    """Where the archive is and how patiently to talk to it.

    Parameters
    ----------
    base_url : str
        Archive root, e.g. ``https://lasp.colorado.edu/pspt_access``; http or https only.
    max_request_bytes : int
        Most bytes asked for in one request.
    timeout_s : float
        Connect timeout and read timeout (longest silence while waiting for bytes).
    max_retries : int
        Retries per request, and per file for size/md5 mismatches.
    backoff_s, max_backoff_s : float
        First wait before a retry; it doubles with each consecutive failure up to ``max_backoff_s``.
    """

    base_url: str
    max_request_bytes: int = 200 * 1024**2
    timeout_s: float = 30.0
    max_retries: int = 8
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        _check_base_url(self.base_url)
        if self.max_request_bytes < 1:
            raise ValueError(f"max_request_bytes must be at least 1, got {self.max_request_bytes}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")
        if self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("backoff_s and max_backoff_s must be 0 or more")


@dataclass(frozen=True)
class ListedFile:
    """One entry of the archive listing, already checked to be a safe PSPT file name."""

    name: str
    size: int
    md5: str | None
    observation: pspt.Observation
    filter: str


@dataclass(frozen=True)
class ManifestFile:
    """A file on disk after the download, with its md5 computed locally."""

    name: str
    observation: str
    filter: str
    size: int
    md5: str


@dataclass(frozen=True)
class SkippedFile:
    """A listed file that was not downloaded, and why."""

    name: str
    observation: str
    filter: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    """The result of :func:`download`; :meth:`to_dict` is what ``manifest.json`` holds."""

    base_url: str
    start: date
    end: date
    filters: tuple[str, ...]
    files: tuple[ManifestFile, ...]
    skipped: tuple[SkippedFile, ...]
    downloaded: tuple[str, ...] = ()
    already_present: tuple[str, ...] = ()
    retries: dict[str, int] = field(default_factory=dict)

    def pairs(self) -> list[dict[str, str]]:
        """Image/mask pairs, one per observation and image filter, sorted."""
        masks = {f.observation: f.name for f in self.files if f.filter == MASK_FILTER}
        return [
            {"observation": f.observation, "filter": f.filter, "image": f.name, "mask": masks[f.observation]}
            for f in self.files
            if f.filter != MASK_FILTER
        ]

    def to_dict(self) -> dict:
        """The deterministic part: same file set, same JSON (no timestamps, no retry counts)."""
        return {
            "base_url": self.base_url,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "filters": list(self.filters),
            "files": [vars(f) for f in self.files],
            "pairs": self.pairs(),
            "skipped": [vars(s) for s in self.skipped],
        }


# ----------------------------------------------------------------------------------------------- entry point


def download(
    settings: ArchiveSettings,
    start: date,
    end: date,
    filters: Sequence[str],
    out_dir: Path,
    progress: bool = True,
) -> Manifest:
    """Download every complete image/mask pair observed from ``start`` to ``end`` (inclusive) into ``out_dir``.

    Parameters
    ----------
    settings : ArchiveSettings
        Archive address, request size limit, timeouts and retry policy.
    start, end : datetime.date
        Inclusive date range.
    filters : sequence of str
        Image filters among ``R``, ``B``, ``K``; masks (``M``) are always fetched with them.
    out_dir : pathlib.Path
        Destination folder; also holds ``.part`` files, ``manifest.json`` and ``download_log.json``.
    progress : bool
        Show a tqdm progress bar over bytes.

    Returns
    -------
    Manifest

    Raises
    ------
    UnsafeArchiveError
        A listing name that is not a plain PSPT file name, or a redirect to another server.
    DownloadError
        A file or listing failed for good; files completed before it stay in ``out_dir``.
    """
    letters = _image_filters(filters)
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    client = _Client(settings)
    present: dict[str, str] = {}
    downloaded: dict[str, str] = {}
    error: BaseException | None = None
    try:
        listed = [entry for letter in (*letters, MASK_FILTER) for entry in client.list_files(letter, start, end)]
        wanted, skipped = pair_files(_unique(listed), letters)
        present.update((e.name, md5) for e in wanted if (md5 := _verified_md5(e, out_dir / e.name)))
        for name in present:  # a stale partial copy of a file we already have is only clutter
            _part_path(out_dir, name).unlink(missing_ok=True)
        todo = [entry for entry in wanted if entry.name not in present]
        log.info("%d files wanted, %d already present, %d skipped", len(wanted), len(present), len(skipped))
        with _progress_bar(todo, out_dir, progress) as bar:
            client.bar = bar
            for entry in todo:
                downloaded[entry.name] = client.fetch(entry, out_dir)
    except BaseException as err:
        error = err
        raise
    finally:
        # The log is written even when the run fails: it says what was retried and what stopped it.
        _write_log(out_dir, settings, start, end, letters, client, downloaded, present, error)

    md5s = {**present, **downloaded}
    manifest = Manifest(
        base_url=settings.base_url,
        start=start,
        end=end,
        filters=letters,
        files=tuple(ManifestFile(e.name, e.observation.key, e.filter, e.size, md5s[e.name]) for e in wanted),
        skipped=tuple(skipped),
        downloaded=tuple(sorted(downloaded)),
        already_present=tuple(sorted(present)),
        retries=client.retry_counts(),
    )
    atomic.write_json(out_dir / MANIFEST_NAME, manifest.to_dict())
    return manifest


def pair_files(listed: Iterable[ListedFile], filters: Sequence[str]) -> tuple[list[ListedFile], list[SkippedFile]]:
    """Split listed files into complete pairs (images and their masks) and skipped ones with reasons.

    Returns both lists sorted by file name.
    """
    by_observation: dict[pspt.Observation, dict[str, ListedFile]] = {}
    for entry in listed:
        by_observation.setdefault(entry.observation, {})[entry.filter] = entry
    wanted: list[ListedFile] = []
    skipped: list[SkippedFile] = []
    for files in by_observation.values():
        mask = files.get(MASK_FILTER)
        images = [files[letter] for letter in filters if letter in files]
        if mask and images:
            wanted += [mask, *images]
        elif images:
            reason = "no mask (M) file for this observation in the archive listing"
            skipped += [_skip(image, reason) for image in images]
        elif mask:
            skipped.append(_skip(mask, f"no {'/'.join(filters)} image for this observation in the archive listing"))
    return sorted(wanted, key=lambda e: e.name), sorted(skipped, key=lambda s: s.name)


def safe_file_name(name: object) -> str:
    """Return ``name`` if it is a plain PSPT file name that cannot leave ``out_dir``; else raise UnsafeArchiveError."""
    if not isinstance(name, str):
        raise UnsafeArchiveError(f"refusing archive file name {name!r}: not a string")
    # parse_file_name looks only at the last path component, so path tricks are refused here first.
    if "/" in name or "\\" in name or ".." in name or os.path.isabs(name) or not _SAFE_NAME.fullmatch(name):
        raise UnsafeArchiveError(
            f"refusing archive file name {name!r}: it must be a plain PSPT file name "
            "(letters, digits, '.', '_', '-'; no '/', '\\', '..' or absolute path)"
        )
    try:
        pspt.parse_file_name(name)
    except pspt.PSPTFileError as err:
        raise UnsafeArchiveError(f"refusing archive file name {name!r}: {err}") from err
    return name


# ------------------------------------------------------------------------------------------------ the client


class _Failure(Exception):
    """A failed attempt that may succeed if tried again; ``kind`` is one of RETRY_KINDS."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Transient(_Failure):
    """The request failed; asking again (for the bytes still missing) may work."""


class _BadContent(_Failure):
    """The bytes cannot be trusted (wrong size or md5): the partial file must be discarded."""


class _Client:
    """Talks to one archive origin; keeps retry counts and the progress bar of one :func:`download`."""

    def __init__(self, settings: ArchiveSettings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.origin = _origin(self.base_url)
        self.base_path = urlsplit(self.base_url).path
        self.retries: Counter[str] = Counter()
        self.bytes_received = 0
        self.bar: tqdm | None = None
        self._ssl = ssl.create_default_context() if self.origin[0] == "https" else None

    def retry_counts(self) -> dict[str, int]:
        return {kind: self.retries[kind] for kind in RETRY_KINDS}

    # -- listing

    def list_files(self, letter: str, start: date, end: date) -> list[ListedFile]:
        """The archive's files of one filter in the date range, each checked by :func:`safe_file_name`."""
        what = f"listing of {letter} files {start}..{end}"
        query = urlencode({"start": start.isoformat(), "end": end.isoformat(), "filter": letter})
        payload = self._retrying(what, lambda: self._read_listing(f"{self.base_path}/list?{query}", what))
        return _parse_listing(payload, letter, start, end, what)

    def _read_listing(self, target: str, what: str) -> bytes:
        chunks: list[bytes] = []
        with self._get(target, {}, what, accept=(200,)) as response:
            _stream_body(response, chunks.append, what, expected=response.length, limit=_MAX_LISTING_BYTES)
        return b"".join(chunks)

    # -- files

    def fetch(self, entry: ListedFile, out_dir: Path) -> str:
        """Download (or finish) one file, verify it, move it to its final name; return its md5."""
        part = _part_path(out_dir, entry.name)
        bad_attempts = 0
        while True:
            try:
                self._fill(entry, part)
                md5 = _verify(entry, part)
                break
            except _BadContent as bad:
                # Bytes we cannot trust: start this file again from zero.
                self._progress(-_size_of(part))
                part.unlink(missing_ok=True)
                bad_attempts += 1
                self._after_failure(entry.name, bad, bad_attempts)
        os.replace(part, out_dir / entry.name)
        log.info("%s: downloaded and verified (%d bytes)", entry.name, entry.size)
        return md5

    def _fill(self, entry: ListedFile, part: Path) -> None:
        """Append to ``part`` until it holds ``entry.size`` bytes, one bounded Range request at a time."""
        part.touch()
        while (have := _size_of(part)) < entry.size:
            self._retrying(entry.name, lambda: self._fetch_next_range(entry, part))
        if have > entry.size:
            raise _BadContent("bad_size_md5", f"partial file holds {have} bytes, the listing gives {entry.size}")

    def _fetch_next_range(self, entry: ListedFile, part: Path) -> None:
        first = _size_of(part)  # read again on every attempt: a truncated attempt still saved its bytes
        last = min(entry.size, first + self.settings.max_request_bytes) - 1
        target = f"{self.base_path}/files/{quote(entry.name)}"
        headers = {"Range": f"bytes={first}-{last}"}
        with self._get(target, headers, entry.name, accept=(200, 206, 416)) as response:
            expected = self._expected_length(response, entry, first, last)
            with part.open("ab") as sink:

                def save(chunk: bytes) -> None:
                    sink.write(chunk)
                    self._progress(len(chunk))

                _stream_body(response, save, entry.name, expected=expected)

    def _expected_length(self, response: http.client.HTTPResponse, entry: ListedFile, first: int, last: int) -> int:
        """How many body bytes to read, after checking the reply matches the request and the listing."""
        if response.status == 416:
            raise _BadContent("bad_size_md5", f"server cannot serve bytes {first}-{last}: file shorter than listed")
        if response.status == 200:
            # The server ignored Range and sends the whole file: usable only from byte 0 and within the limit.
            if first != 0 or entry.size > self.settings.max_request_bytes:
                raise DownloadError(entry.name, "server ignored the Range header, so it cannot be resumed or split")
            if response.length is not None and response.length != entry.size:
                raise _BadContent("bad_size_md5",
                                  f"server sends {response.length} bytes, the listing gives {entry.size}")
            return entry.size
        got_first, got_last, total = _parse_content_range(response.getheader("Content-Range"))
        if total is not None and total != entry.size:
            raise _BadContent("bad_size_md5", f"server reports a size of {total} bytes, the listing gives {entry.size}")
        if got_first != first or not first <= got_last <= last:
            raise _BadContent("bad_size_md5", f"asked for bytes {first}-{last}, server sent {got_first}-{got_last}")
        return got_last - got_first + 1

    # -- HTTP

    @contextmanager
    def _get(self, target: str, headers: dict[str, str], what: str, accept: tuple[int, ...]) -> Iterator:
        """GET ``target`` (path and query) on the archive origin, following same-origin redirects only."""
        connection, response = self._open(target, headers, what, accept)
        try:
            yield response
        finally:
            connection.close()

    def _open(self, target: str, headers: dict[str, str], what: str, accept: tuple[int, ...]):
        for _ in range(_MAX_REDIRECTS + 1):
            connection = self._connection()
            try:
                with _network_errors(what):
                    connection.request("GET", target, headers={**_HEADERS, **headers})
                    response = connection.getresponse()
                if response.status not in _REDIRECT_STATUSES:
                    _check_status(response, what, accept)
                    return connection, response
                location = response.getheader("Location")
            except BaseException:
                connection.close()
                raise
            connection.close()
            target = self._redirect_target(target, location, what)
        raise DownloadError(what, f"more than {_MAX_REDIRECTS} redirects")

    def _redirect_target(self, target: str, location: str | None, what: str) -> str:
        """Where a redirect points, refused unless it stays on the configured scheme, host and port."""
        if not location:
            raise DownloadError(what, "redirect without a Location header")
        here = f"{self.origin[0]}://{self.origin[1]}:{self.origin[2]}{target}"
        there = urljoin(here, location)
        if _origin(there) != self.origin:
            raise UnsafeArchiveError(f"{what}: refusing redirect to {there}: it leaves the archive at {self.base_url}")
        parts = urlsplit(there)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _connection(self) -> http.client.HTTPConnection:
        # One connection per request: simple, and a failed request never poisons the next one.
        # The socket timeout applies to connect and to every read, so a stalled body times out too.
        scheme, host, port = self.origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.settings.timeout_s, context=self._ssl)
        return http.client.HTTPConnection(host, port, timeout=self.settings.timeout_s)

    # -- retries and progress

    def _retrying(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, retrying transient failures with backoff."""
        failures = 0
        while True:
            try:
                return attempt()
            except _Transient as failure:
                failures += 1
                self._after_failure(what, failure, failures)

    def _after_failure(self, what: str, failure: _Failure, failures: int) -> None:
        """Count a failure and wait before the next try, or give up once retries are spent."""
        if failures > self.settings.max_retries:
            raise DownloadError(
                what, f"gave up after {self.settings.max_retries} retries; last failure ({failure.kind}): {failure}"
            ) from failure
        self.retries[failure.kind] += 1
        delay = min(self.settings.max_backoff_s, self.settings.backoff_s * 2 ** (failures - 1))
        log.warning("%s: %s (%s); retry %d of %d in %.3g s", what, failure, failure.kind, failures,
                    self.settings.max_retries, delay)
        time.sleep(delay)

    def _progress(self, n_bytes: int) -> None:
        if n_bytes > 0:
            self.bytes_received += n_bytes
        if self.bar is not None and n_bytes:
            self.bar.update(n_bytes)


# ----------------------------------------------------------------------------------------------- helpers


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    _origin(url)
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UnsafeArchiveError(f"base_url {url!r}: must not hold credentials, a query or a fragment")


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, with the default port filled in; refuses anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeArchiveError(f"{url!r}: only http and https URLs are allowed")
    try:
        port = parts.port
    except ValueError as err:
        raise UnsafeArchiveError(f"{url!r}: bad port ({err})") from err
    if not parts.hostname:
        raise UnsafeArchiveError(f"{url!r}: no host")
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


@contextmanager
def _network_errors(what: str) -> Iterator[None]:
    """Turn socket and HTTP-parsing errors into retryable failures (certificate errors are not retryable)."""
    try:
        yield
    except ssl.SSLCertVerificationError as err:
        raise DownloadError(what, f"TLS certificate not trusted ({err})") from err
    except TimeoutError as err:
        raise _Transient("timeout", "timed out waiting for the server (connect or read timeout)") from err
    except http.client.IncompleteRead as err:
        raise _Transient("truncated", f"body ended early ({err!r})") from err
    except (OSError, http.client.HTTPException) as err:
        raise _Transient("reset", f"connection failed ({type(err).__name__}: {err})") from err


def _check_status(response: http.client.HTTPResponse, what: str, accept: tuple[int, ...]) -> None:
    status = f"HTTP {response.status} {response.reason}".strip()
    if response.status in accept:
        return
    if response.status >= 500:
        raise _Transient("http_5xx", status)
    if response.status in (408, 429):
        raise _Transient("http_408_429", status)
    if response.status >= 400:
        raise DownloadError(what, f"{status} (client errors are not retried)")
    raise DownloadError(what, f"unexpected {status}")


def _stream_body(response, sink: Callable[[bytes], object], what: str, expected: int | None,
                 limit: int | None = None) -> None:
    """Pass the body to ``sink`` chunk by chunk; fewer than ``expected`` bytes is a truncation."""
    received = 0
    while expected is None or received < expected:
        want = _READ_CHUNK if expected is None else min(_READ_CHUNK, expected - received)
        with _network_errors(what):
            chunk = response.read1(want)  # read1: whatever has arrived, so progress survives a later failure
        if not chunk:
            if expected is None:
                return
            raise _Transient("truncated", f"body ended after {received} of {expected} bytes")
        received += len(chunk)
        if limit is not None and received > limit:
            raise DownloadError(what, f"reply larger than {limit} bytes")
        sink(chunk)


def _parse_content_range(header: str | None) -> tuple[int, int, int | None]:
    match = _CONTENT_RANGE.fullmatch((header or "").strip())
    if not match:
        raise _BadContent("bad_size_md5", f"206 reply with a bad Content-Range header {header!r}")
    total = None if match[3] == "*" else int(match[3])
    return int(match[1]), int(match[2]), total


def _parse_listing(payload: bytes, letter: str, start: date, end: date, what: str) -> list[ListedFile]:
    try:
        document = json.loads(payload)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
        raise DownloadError(what, f"listing is not valid JSON ({err})") from err
    entries = document.get("files") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise DownloadError(what, 'listing must be a JSON object {"files": [...]}')
    return [_parse_entry(entry, letter, start, end, what) for entry in entries]


def _parse_entry(entry: object, letter: str, start: date, end: date, what: str) -> ListedFile:
    if not isinstance(entry, dict):
        raise DownloadError(what, f"listing entry {entry!r} is not an object")
    name = safe_file_name(entry.get("name"))
    observation, found = pspt.parse_file_name(name)
    if found != letter:
        raise DownloadError(what, f"{name} is a {found} file, the listing was for {letter}")
    try:
        observed = date.fromisoformat(observation.iso_date)
    except ValueError as err:
        raise DownloadError(what, f"{name}: no such date ({err})") from err
    if not start <= observed <= end:
        raise DownloadError(what, f"{name} is outside the date range asked for")
    size, md5 = entry.get("size"), entry.get("md5")
    if type(size) is not int or size < 0:
        raise DownloadError(what, f"{name}: size {size!r} is not a whole number of bytes")
    if md5 is not None and not (isinstance(md5, str) and re.fullmatch(r"[0-9a-fA-F]{32}", md5)):
        raise DownloadError(what, f"{name}: md5 {md5!r} is not 32 hex digits")
    return ListedFile(name, size, md5.lower() if md5 else None, observation, found)


def _unique(listed: list[ListedFile]) -> list[ListedFile]:
    """Drop repeated listing entries; the same name with different size or md5 is an error."""
    by_name: dict[str, ListedFile] = {}
    for entry in listed:
        seen = by_name.setdefault(entry.name, entry)
        if seen != entry:
            raise DownloadError(entry.name, "listed twice with different size or md5")
    return list(by_name.values())


def _image_filters(filters: Sequence[str]) -> tuple[str, ...]:
    if isinstance(filters, str):
        filters = [filters]
    letters = tuple(sorted(set(filters)))
    unknown = [letter for letter in letters if letter not in IMAGE_FILTERS]
    if not letters or unknown:
        raise ValueError(f"filters must be among {IMAGE_FILTERS} (masks are fetched with them), got {list(filters)}")
    return letters


def _skip(entry: ListedFile, reason: str) -> SkippedFile:
    log.warning("%s: skipped: %s", entry.name, reason)
    return SkippedFile(entry.name, entry.observation.key, entry.filter, reason)


def _part_path(out_dir: Path, name: str) -> Path:
    return out_dir / f".{name}.part"


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _verify(entry: ListedFile, path: Path) -> str:
    """The md5 of a file that matches the listing's size (and md5); raise _BadContent otherwise."""
    size = _size_of(path)
    if size != entry.size:
        raise _BadContent("bad_size_md5", f"size is {size} bytes, the listing gives {entry.size}")
    md5 = _md5_of(path)
    if entry.md5 and md5 != entry.md5:
        raise _BadContent("bad_size_md5", f"md5 is {md5}, the listing gives {entry.md5}")
    return md5


def _verified_md5(entry: ListedFile, final: Path) -> str | None:
    """The md5 of an already-downloaded file that still matches the listing, else None."""
    if not final.is_file():
        return None
    try:
        return _verify(entry, final)
    except _BadContent as mismatch:
        log.warning("%s: present but %s; downloading it again", entry.name, mismatch)
        return None


def _progress_bar(todo: list[ListedFile], out_dir: Path, progress: bool) -> tqdm:
    total = sum(entry.size for entry in todo)
    resumed = sum(min(entry.size, _size_of(_part_path(out_dir, entry.name))) for entry in todo)
    return tqdm(total=total, initial=resumed, unit="B", unit_scale=True, unit_divisor=1024,
                desc="PSPT download", disable=not progress)


def _write_log(out_dir: Path, settings: ArchiveSettings, start: date, end: date, letters: tuple[str, ...],
               client: _Client, downloaded: dict[str, str], present: dict[str, str],
               error: BaseException | None) -> None:
    atomic.write_json(out_dir / LOG_NAME, {
        "base_url": settings.base_url,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "filters": list(letters),
        "retries": client.retry_counts(),
        "downloaded": sorted(downloaded),
        "already_present": sorted(present),
        "bytes_received": client.bytes_received,
        "error": None if error is None else f"{type(error).__name__}: {error}",
    })
