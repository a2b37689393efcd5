"""The archive client against the stand-in server in tests/archive_server.py (loopback only)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from sunspotter.acquire import lasp
from sunspotter.acquire.lasp import ArchiveError, ArchiveSettings, DownloadError, UnsafeArchiveError
from tests.archive_server import FAULT_KINDS, ArchiveServer, FaultInjector, make_files

START, END = date(2014, 1, 2), date(2014, 1, 5)
CHUNK = 64 * 1024


def settings(server: ArchiveServer, **overrides) -> ArchiveSettings:
    """Small requests, short timeouts and tiny backoff: many requests, fast tests."""
    values = {"max_request_bytes": CHUNK, "timeout_s": 0.5, "max_retries": 3, "backoff_s": 0.001,
              "max_backoff_s": 0.01} | overrides
    return ArchiveSettings(server.base_url, **values)


def assert_same_files(out: Path, files: dict[str, bytes]) -> None:
    for name, payload in files.items():
        assert (out / name).read_bytes() == payload, name
    assert not list(out.glob(".*.part")), "partial files left behind"


def test_happy_path_downloads_pairs_and_a_rerun_downloads_nothing(tmp_path):
    files = make_files(days=4, filters="RBM", seed=1)
    with ArchiveServer(files) as server:
        manifest = lasp.download(settings(server), START, END, ["R", "B"], tmp_path, progress=False)
        first_manifest = (tmp_path / "manifest.json").read_bytes()
        assert len(server.file_requests()) > len(files), "files above 64 KB come in several requests"
        assert all(r.range and r.range.startswith("bytes=") for r in server.file_requests())

        n_requests = len(server.requests)
        again = lasp.download(settings(server), START, END, ["R", "B"], tmp_path, progress=False)
        assert len(server.requests) == n_requests + 3, "a rerun only lists (R, B, M)"

    assert_same_files(tmp_path, files)
    assert sorted(manifest.downloaded) == sorted(files) and manifest.already_present == ()
    assert again.downloaded == () and sorted(again.already_present) == sorted(files)
    assert (tmp_path / "manifest.json").read_bytes() == first_manifest, "manifest must not change on a rerun"

    document = json.loads(first_manifest)
    assert document["base_url"] == server.base_url
    assert (document["start"], document["end"], document["filters"]) == ("2014-01-02", "2014-01-05", ["B", "R"])
    assert [f["name"] for f in document["files"]] == sorted(files)
    for entry in document["files"]:
        assert entry["md5"] == hashlib.md5(files[entry["name"]]).hexdigest()
        assert entry["size"] == len(files[entry["name"]])
        assert entry["observation"] == entry["name"][:13] and entry["filter"] == entry["name"][17]
    assert len(document["pairs"]) == 8 and document["skipped"] == []
    assert {"observation": "20140102.1800", "filter": "R", "image": "20140102.1800.HW.R.P.rdc.fits.gz",
            "mask": "20140102.1800.HW.M.P.rdc.fits.gz"} in document["pairs"]
    assert "retries" not in document
    log = json.loads((tmp_path / "download_log.json").read_text())
    assert log["already_present"] == sorted(files) and log["error"] is None
    assert set(log["retries"]) == set(lasp.RETRY_KINDS)


def test_survives_over_a_hundred_faults_of_every_kind(tmp_path, capsys):
    files = make_files(days=16, filters="RKM", seed=2)
    faults = FaultInjector(rate=0.5, kinds=FAULT_KINDS, seed=3, stall_s=0.6)
    with ArchiveServer(files, faults) as server:
        manifest = lasp.download(settings(server, timeout_s=0.25, max_retries=30), date(2014, 1, 1),
                                    date(2014, 1, 31), ["R", "K"], tmp_path, progress=False)
    counts = dict(faults.counts)
    with capsys.disabled():
        print(f"\ninjected {faults.total} faults: {counts}; client retries: {manifest.retries}")

    assert faults.total >= 100
    assert set(counts) == set(FAULT_KINDS), "every kind of fault was injected"
    assert_same_files(tmp_path, files)
    # Each injected fault (a same-origin redirect is not one) costs the client exactly one retry of its kind.
    expected = {"http_5xx": counts["http_500"] + counts["http_503"], "http_408_429": 0, "timeout": counts["stall"],
                "reset": counts["reset"], "truncated": counts["truncate"],
                "bad_size_md5": counts["wrong_size"] + counts["corrupt"]}
    retries = manifest.retries
    if retries["timeout"] == expected["timeout"]:
        assert retries == expected
    else:  # a slow machine can turn a fault into a genuine timeout, or time out a healthy reply
        assert sum(retries.values()) >= sum(expected.values())
        assert all(retries[kind] <= expected[kind] for kind in expected if kind != "timeout")
    assert json.loads((tmp_path / "download_log.json").read_text())["retries"] == retries


def test_resumes_a_partial_file_and_asks_only_for_the_rest(tmp_path):
    files = make_files(days=1, filters="RM", seed=4, min_size=200_000, max_size=200_000)
    name = "20140102.1800.HW.R.P.rdc.fits.gz"
    (tmp_path / f".{name}.part").write_bytes(files[name][:100_000])  # an earlier run stopped here
    with ArchiveServer(files) as server:
        lasp.download(settings(server), START, START, ["R"], tmp_path, progress=False)
        ranges = server.ranges_for(name)
    assert ranges == ["bytes=100000-165535", "bytes=165536-199999"]
    assert_same_files(tmp_path, files)


def test_an_interrupted_request_continues_where_the_bytes_stopped(tmp_path):
    files = make_files(days=1, filters="RM", seed=5, min_size=300_000, max_size=300_000)
    name = "20140102.1800.HW.R.P.rdc.fits.gz"
    faults = FaultInjector(seed=6)
    faults.script(name, ["truncate", None, "stall", None, "reset"])
    with ArchiveServer(files, faults) as server:
        lasp.download(settings(server, timeout_s=0.2), START, START, ["R"], tmp_path, progress=False)
    requests = server.file_requests(name)
    spans = [tuple(int(x) for x in r.range.removeprefix("bytes=").split("-")) for r in requests]
    # Each request starts exactly where the bytes received so far end: nothing is asked for twice.
    assert spans[0][0] == 0 and spans[-1][1] == len(files[name]) - 1
    for (first, _), request, (next_first, _) in zip(spans, requests, spans[1:], strict=False):
        assert next_first == first + request.sent
    assert [r.fault for r in requests][:5] == ["truncate", None, "stall", None, "reset"]
    assert all(last - first + 1 <= CHUNK for first, last in spans)
    assert_same_files(tmp_path, files)


def test_gives_up_naming_the_file_and_keeps_completed_files(tmp_path):
    files = make_files(days=2, filters="RM", seed=7)
    doomed = "20140103.1800.HW.M.P.rdc.fits.gz"  # third in download order
    faults = FaultInjector(seed=8)
    faults.always(doomed, "http_503")
    with ArchiveServer(files, faults) as server:
        with pytest.raises(DownloadError, match=rf"{doomed}: gave up after 3 retries.*HTTP 503") as caught:
            lasp.download(settings(server), START, END, ["R"], tmp_path, progress=False)
        assert len(server.file_requests(doomed)) == 4
    assert caught.value.name == doomed
    for done in ("20140102.1800.HW.M.P.rdc.fits.gz", "20140102.1800.HW.R.P.rdc.fits.gz"):
        assert (tmp_path / done).read_bytes() == files[done]
    assert not (tmp_path / doomed).exists() and not (tmp_path / "20140103.1800.HW.R.P.rdc.fits.gz").exists()
    assert not (tmp_path / "manifest.json").exists()
    log = json.loads((tmp_path / "download_log.json").read_text())
    assert doomed in log["error"] and log["retries"]["http_5xx"] == 3


def test_a_size_that_never_matches_fails_with_the_rule(tmp_path):
    files = make_files(days=1, filters="RM", seed=9)
    faults = FaultInjector(seed=10)
    name = "20140102.1800.HW.M.P.rdc.fits.gz"
    faults.always(name, "wrong_size")
    with ArchiveServer(files, faults) as server:
        with pytest.raises(DownloadError, match=rf"{name}: gave up.*size of \d+ bytes, the listing gives"):
            lasp.download(settings(server), START, START, ["R"], tmp_path, progress=False)
    assert not (tmp_path / name).exists()


def test_a_client_error_is_not_retried(tmp_path):
    files = make_files(days=1, filters="RM", seed=11)
    name = "20140102.1800.HW.R.P.rdc.fits.gz"
    listed = {"R": [{"name": name, "size": len(files.pop(name))}]}  # listed, but the server answers 404
    with ArchiveServer(files, extra_entries=listed) as server:
        with pytest.raises(DownloadError, match=rf"{name}: HTTP 404 Not Found \(client errors are not retried\)"):
            lasp.download(settings(server), START, START, ["R"], tmp_path, progress=False)
        assert len(server.file_requests(name)) == 1


@pytest.mark.parametrize("bad", ["../evil.fits.gz", "/etc/passwd", "x/20140102.1800.HW.R.P.rdc.fits.gz",
                                 "..\\20140102.1800.HW.R.P.rdc.fits.gz", "20140102.1800.HW.R.P.rdc.fits.gz\n",
                                 "/tmp/20140102.1800.HW.R.P.rdc.fits.gz"])
def test_refuses_listing_names_that_could_escape(tmp_path, bad):
    files = make_files(days=1, filters="RM", seed=12)
    out = tmp_path / "out"
    with ArchiveServer(files, extra_entries={"R": [{"name": bad, "size": 10}]}) as server:
        with pytest.raises(UnsafeArchiveError, match="refusing archive file name"):
            lasp.download(settings(server), START, START, ["R"], out, progress=False)
        assert server.file_requests() == [], "nothing is fetched once the listing is refused"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["download_log.json"]


def test_refuses_a_redirect_to_another_host_or_port(tmp_path):
    files = make_files(days=1, filters="RM", seed=13)
    with ArchiveServer(files) as elsewhere:
        for target in (elsewhere.base_url, elsewhere.base_url.replace("127.0.0.1", "127.0.0.2")):
            with ArchiveServer(files, redirect_files_to=target) as server:
                with pytest.raises(UnsafeArchiveError, match="refusing redirect to .* leaves the archive"):
                    lasp.download(settings(server), START, START, ["R"], tmp_path, progress=False)
        assert elsewhere.requests == [], "the other server was never contacted"
    assert not list(tmp_path.glob("*.gz"))


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/pspt", "file:///etc", "127.0.0.1:8000/pspt", "http:///nohost",
                                 "http://user:pw@127.0.0.1/pspt"])
def test_refuses_a_base_url_that_is_not_plain_http(url):
    with pytest.raises(ArchiveError, match="only http and https|no host|credentials"):
        ArchiveSettings(url)


def test_unpaired_files_are_reported_not_dropped(tmp_path):
    files = make_files(days=3, filters="RM", seed=14, max_size=60_000)
    del files["20140103.1800.HW.M.P.rdc.fits.gz"]  # an image without its mask
    del files["20140104.1800.HW.R.P.rdc.fits.gz"]  # a mask without its image
    with ArchiveServer(files, with_md5=False) as server:
        manifest = lasp.download(settings(server), START, END, ["R"], tmp_path, progress=False)
    skipped = json.loads((tmp_path / "manifest.json").read_text())["skipped"]
    assert skipped == [
        {"name": "20140103.1800.HW.R.P.rdc.fits.gz", "observation": "20140103.1800", "filter": "R",
         "reason": "no mask (M) file for this observation in the archive listing"},
        {"name": "20140104.1800.HW.M.P.rdc.fits.gz", "observation": "20140104.1800", "filter": "M",
         "reason": "no R image for this observation in the archive listing"},
    ]
    assert [f.name for f in manifest.files] == ["20140102.1800.HW.M.P.rdc.fits.gz", "20140102.1800.HW.R.P.rdc.fits.gz"]
    assert not (tmp_path / "20140103.1800.HW.R.P.rdc.fits.gz").exists()


def test_a_wrong_file_under_the_final_name_is_downloaded_again(tmp_path):
    files = make_files(days=1, filters="RM", seed=15)
    name = "20140102.1800.HW.R.P.rdc.fits.gz"
    (tmp_path / name).write_bytes(b"not the archive's bytes")
    with ArchiveServer(files) as server:
        manifest = lasp.download(settings(server), START, START, ["R"], tmp_path, progress=False)
    assert name in manifest.downloaded
    assert_same_files(tmp_path, files)


def test_rejects_bad_arguments(tmp_path):
    with ArchiveServer({}) as server:
        with pytest.raises(ValueError, match="filters must be among"):
            lasp.download(settings(server), START, END, ["M"], tmp_path, progress=False)
        with pytest.raises(ValueError, match="after end"):
            lasp.download(settings(server), END, START, ["R"], tmp_path, progress=False)
