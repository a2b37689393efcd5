"""``sunspotter.detect`` in a notebook: a path, a sunpy Map or an array in; a mask Map, the probability and a
catalog with units out, the same rows the command line writes."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pandas as pd
import pytest

import sunspotter
from sunspotter import cli
from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.io import pspt
from sunspotter.lifecycle.pyfunc import save_full_disk_model
from sunspotter.solar.solar_image import apparent_radius_arcsec
from tests.code.fulldisk.test_full_disk import CENTRE, DATE, RADIUS, SPOT, contrast_model, picture_file, sun, wcs_file


@pytest.fixture(scope="module")
def model() -> FullDiskModel:
    return FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory, model):
    folder = tmp_path_factory.mktemp("model")
    model.keras_model.save(folder / "localizer.keras")
    save_full_disk_model(model, folder / "localizer.keras", folder / "full_disk")
    return folder / "full_disk"


def test_a_sunpy_map_gives_a_catalog_with_units_matching_the_cli(tmp_path, model, saved_model, capsys):
    import sunpy.map

    path = wcs_file(tmp_path / "hmi_like.fits", sun(), apparent_radius_arcsec(DATE) / RADIUS)
    found = sunspotter.detect(sunpy.map.Map(path), saved_model)
    assert len(found.regions) == 1 and found.model == str(saved_model)
    area = found.regions["area_msh"][0]
    assert area.to(u.km**2).value == pytest.approx(area.value * 1e-6 * 2 * np.pi * (695_700**2), rel=1e-3)
    assert found.regions["hpc_x_arcsec"].unit == u.arcsec and found.regions["hgs_lat_deg"].unit == u.deg
    assert isinstance(found.mask_map, sunpy.map.GenericMap) and found.mask_map.data.shape == sun().shape
    assert found.mask_map.wcs.wcs.ctype[0] == "HPLN-TAN"
    assert set(np.unique(found.codes)) == {0, pspt.UMBRA, pspt.PENUMBRA}
    assert found.probability.shape == sun().shape

    assert cli.main(["predict", str(path), "--model", str(saved_model), "-o", str(tmp_path / "out")]) == 0
    written = pd.read_csv(tmp_path / "out" / "hmi_like.catalog.csv")
    for column in ("x", "y", "area_msh", "hgs_lat_deg", "hgc_lon_deg"):
        assert written[column].to_numpy() == pytest.approx(found.catalog[column].to_numpy(), rel=1e-9), column


def test_an_array_with_its_disk_and_a_loaded_model(model):
    found = sunspotter.detect(sun(), model, disk=(*CENTRE, RADIUS), date=DATE.isoformat())
    assert found.model == "a model loaded by the caller" and len(found.catalog) == 1
    assert (found.catalog.x[0], found.catalog.y[0]) == pytest.approx(SPOT[:2], abs=1.0)
    assert found.mask_map is not None  # dated: placed on the sky


def test_an_undated_picture_has_no_map_and_says_why(tmp_path, model):
    found = sunspotter.detect(picture_file(tmp_path / "sun.png", sun(), text=False), model)
    assert found.mask_map is None and "undated picture" in found.map_note
    assert found.mask.shape == sun().shape and found.mask[::-1].sum() == found.analysis.mask.sum()
    assert len(found.regions) == 1 and np.isnan(found.catalog["hgs_lat_deg"][0])
