"""The served localizer's fixtures, shared by the pyfunc and serving tests: a saved stand-in model and an image."""

from __future__ import annotations

from pathlib import Path

import pytest

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.lifecycle.pyfunc import save_full_disk_model
from sunspotter.solar.solar_image import apparent_radius_arcsec
from tests.code.fulldisk.test_full_disk import DATE, RADIUS, contrast_model, pspt_file, sun


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    """The contrast stand-in saved as the full-disk pyfunc, one per module: loading it writes bytecode into its code."""
    folder = tmp_path_factory.mktemp("model")
    keras_path = folder / "localizer.keras"
    contrast_model().save(keras_path)
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                          edge_grow=0.9, edge_trim=0.93)
    save_full_disk_model(model, keras_path, folder / "full_disk")
    return folder / "full_disk"


@pytest.fixture(scope="module")
def image_file(tmp_path_factory) -> Path:
    """A 512 x 512 PSPT frame with one spot; read-only."""
    return pspt_file(tmp_path_factory.mktemp("image") / "20140105.1800.HW.R.P.rdc.fits.gz", sun())
