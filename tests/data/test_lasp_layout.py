"""A download from the archive lands in the same layout as the synthetic archive: validation and tiling accept it."""

from datetime import date

from sunspotter.acquire import lasp

from sunspotter.dataset import tiles

from sunspotter.io import pspt
from sunspotter.checks.raw import check_raw
from tests.archive_server import ArchiveServer


def test_downloaded_archive_is_the_synthetic_one_to_the_pipeline(tiny_archive, tmp_path):
    served = {p.name: p.read_bytes() for p in tiny_archive.iterdir() if p.name.endswith(".fits.gz")}
    out = tmp_path / "raw"
    with ArchiveServer(served) as server:
        settings = lasp.ArchiveSettings(server.base_url, max_request_bytes=32 * 1024, timeout_s=5, backoff_s=0.001)
        lasp.download(settings, date(2014, 1, 2), date(2014, 1, 7), ["R", "K"], out, progress=False)
    assert {p.name for p in out.glob("*.fits.gz")} == set(served)
    assert (out / pspt.MANIFEST_NAME).exists()
    outcome, _, _ = check_raw(out, ["R", "K"], 256)
    assert outcome.success, outcome.message()
    assert tiles.find_pairs(out, ["R", "K"])[0].observation == tiles.find_pairs(tiny_archive, ["R", "K"])[0].observation
    assert len(tiles.find_pairs(out, ["R", "K"])) == len(tiles.find_pairs(tiny_archive, ["R", "K"])) == 6
