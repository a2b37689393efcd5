"""The files a solar physicist has: the same Sun as a plain PSPT FITS and as HMI-like files (tile-compressed in
HDU 1 behind an empty primary, south up with CROTA2 = 180, scaled integers with BLANK or floats with NaN off
the disk) gives the same regions through ``sunspotter predict``, in each file's own pixels."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from sunspotter.acquire.synth.scenes import render_scene
from sunspotter.fulldisk.predict import predict_files
from sunspotter.io import pspt
from tests.hmi_like import write_hmi_like
from tests.model.test_behaviour import DATE, FEW_SPOTS

WHEN = dt.datetime.combine(DATE, dt.time(18, 0))


@pytest.fixture(scope="module")
def catalogs(full_disk_model, frame_size, tmp_path_factory):
    """Each file's catalog and its frame's shape: the plain PSPT file and the two HMI-like ones."""
    folder = tmp_path_factory.mktemp("files")
    scene = render_scene(FEW_SPOTS, frame_size, DATE, seed=3)
    header = scene.image.disk.to_header()
    header["DATE_OBS"], header["WAVELNTH"] = WHEN.isoformat(), pspt.WAVELENGTH_NM["R"]
    pspt.write_fits(folder / "plain.fits.gz", scene.image.data, header)
    for kind in ("int", "float"):
        write_hmi_like(folder / f"hmi_{kind}.fits", scene.image.data, scene.image.disk, WHEN, kind=kind)
    # The dust map belongs to PSPT's detector: it would judge the plain file, not the HMI-like ones.
    model = replace(full_disk_model, dust_map=None)
    batch = predict_files(model, [folder], folder / "out")
    assert not batch.errors, batch.errors
    return {name: pd.read_csv(folder / "out" / f"{name}.catalog.csv") for name in ("plain", "hmi_int", "hmi_float")}, \
        scene.image.data.shape, folder / "out"


def test_the_plain_file_has_its_regions(catalogs):
    tables, _, _ = catalogs
    assert len(tables["plain"]) >= 3, tables["plain"]


@pytest.mark.parametrize("name", ["hmi_int", "hmi_float"])
def test_a_south_up_compressed_file_gives_the_same_regions_in_its_own_pixels(catalogs, name):
    tables, (height, width), _ = catalogs
    plain, turned = tables["plain"], tables[name]
    assert len(turned) == len(plain), (plain, turned)
    # Stored half a turn round: the file's pixel (x, y) is the plain frame's (width - 1 - x, height - 1 - y).
    back = np.column_stack([width - 1 - turned["x"], height - 1 - turned["y"]])
    for row in plain.itertuples():
        distances = np.hypot(*(back - [row.x, row.y]).T)
        same = int(np.argmin(distances))
        assert distances[same] <= 1.0, (row, back)
        assert turned["hgs_lat_deg"][same] == pytest.approx(row.hgs_lat_deg, abs=0.1)
    assert turned["area_msh"].sum() == pytest.approx(plain["area_msh"].sum(), rel=0.02)


def test_the_masks_come_back_in_the_files_own_layout(catalogs):
    _, _, out = catalogs
    plain, _ = pspt.read_fits(out / "plain.mask.fits")
    for name in ("hmi_int", "hmi_float"):
        turned, header = pspt.read_fits(out / f"{name}.mask.fits")
        assert header["INPUT"] == f"{name}.fits"
        assert WCS(header).wcs.get_pc()[0, 0] == pytest.approx(-1.0)  # the file's south-up WCS, kept
        assert np.mean(np.rot90(turned, 2) != plain) < 0.001
    with fits.open(out / "hmi_int.mask.fits") as hdul:
        assert isinstance(hdul[1], fits.CompImageHDU)
