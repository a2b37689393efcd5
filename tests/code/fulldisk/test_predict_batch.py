"""``sunspotter predict`` as people run it: folders, outputs that never collide, provenance in every mask,
umbra and penumbra told apart, re-runs that skip what the same model made, and a summary plot."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.fulldisk.predict import find_images, output_bases, predict_files
from sunspotter.io import pspt
from sunspotter.solar.solar_image import apparent_radius_arcsec
from sunspotter.version import VERSION
from tests.code.fulldisk.test_full_disk import DATE, RADIUS, contrast_model, picture_file, pspt_file, sun

NAME = "20140105.1800.HW.R.P.rdc"


@pytest.fixture
def model():
    return FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                         edge_grow=0.9, edge_trim=0.93)


def test_the_mask_is_compressed_coded_and_says_how_it_was_made(tmp_path, model):
    image = pspt_file(tmp_path / f"{NAME}.fits.gz", sun())
    batch = predict_files(model, [image], tmp_path / "out", model_name="models:/sunspot-localizer/7")
    assert not batch.errors
    mask_path = tmp_path / "out" / f"{NAME}.mask.fits"
    with fits.open(mask_path) as hdul:
        assert hdul[0].data is None and isinstance(hdul[1], fits.CompImageHDU)  # tile-compressed in HDU 1
        header = hdul[1].header
    assert header["INPUT"] == image.name and header["MODEL"] == "models:/sunspot-localizer/7"
    assert header["MODELSHA"] == model.fingerprint() and header["THRESH"] == 0.5
    assert (header["EDGEGROW"], header["EDGETRIM"]) == (0.9, 0.93)
    assert header["CREATOR"] == f"sunspotter {VERSION}" and header["DATE"].startswith("20")
    # Read back by the project's own reader: PSPT's codes, umbra inside penumbra.
    codes, read_header = pspt.read_fits(mask_path)
    assert read_header["MODELSHA"] == model.fingerprint()
    assert set(np.unique(codes)) == {0, pspt.UMBRA, pspt.PENUMBRA}
    assert 0 < (codes == pspt.UMBRA).sum() < (codes == pspt.PENUMBRA).sum()
    assert read_header["CTYPE1"] == "HPLN-TAN"  # the WCS travels with the mask


def test_a_folder_is_searched_and_outputs_never_collide(tmp_path, model):
    inputs = tmp_path / "inputs"
    (inputs / "mlso").mkdir(parents=True)
    (inputs / "gong").mkdir()
    pspt_file(inputs / "mlso" / f"{NAME}.fits.gz", sun())
    pspt_file(inputs / "gong" / f"{NAME}.fits.gz", sun(spot=None))  # same name, another folder
    picture_file(inputs / "sun.png", sun(), text=False)
    Image.open(inputs / "sun.png").convert("RGB").save(inputs / "sun.jpg")  # same stem, another type
    (inputs / "notes.txt").write_text("not an image")

    top_only = find_images([inputs])
    assert [path.name for path in top_only] == ["sun.jpg", "sun.png"]
    out = tmp_path / "out"
    batch = predict_files(model, [inputs], out, date="2014-01-05", recursive=True)
    assert not batch.errors and len(batch.summary) == 4
    written = sorted(str(path.relative_to(out)) for path in out.rglob("*.mask.fits"))
    assert written == [f"gong/{NAME}.mask.fits", f"mlso/{NAME}.mask.fits", "sun.jpg.mask.fits",
                       "sun.png.mask.fits"]
    regions = batch.summary.set_index("image")["regions"]
    assert regions[f"mlso/{NAME}.fits.gz"] == 1 and regions[f"gong/{NAME}.fits.gz"] == 0
    # The outputs folder inside the inputs is not searched on the next run.
    assert all("out" not in path.parts for path in find_images([tmp_path], recursive=True, out_dir=out))


def test_two_files_of_one_name_from_two_folders_are_told_apart(tmp_path):
    a, b, c = tmp_path / "a" / "x.fits", tmp_path / "b" / "x.fits", tmp_path / "b" / "y.fits"
    given_as_files = {a: Path(), b: Path(), c: Path()}
    assert output_bases(given_as_files) == {a: Path("a/x.fits"), b: Path("b/x.fits"), c: Path("y")}


def test_a_rerun_skips_what_the_same_model_made_and_redoes_the_rest(tmp_path, model):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    first = pspt_file(inputs / f"{NAME}.fits.gz", sun())
    out = tmp_path / "out"
    predict_files(model, [inputs], out)
    second = shutil.copy(first, inputs / "20140106.1800.HW.R.P.rdc.fits.gz")
    again = predict_files(model, [inputs], out, skip_existing=True)
    assert again.skipped == [str(first)] and list(again.summary["image"]) == [second.name]
    other_model = FullDiskModel(contrast_model(), threshold=0.6, arcsec_per_px=model.arcsec_per_px)
    redone = predict_files(other_model, [inputs], out, skip_existing=True)
    assert redone.skipped == [] and len(redone.summary) == 2


def test_a_batch_has_a_summary_plot_of_area_and_count_by_date(tmp_path, model):
    paths = [pspt_file(tmp_path / f"2014010{day}.1800.HW.R.P.rdc.fits.gz", sun()) for day in (5, 6)]
    predict_files(model, paths, tmp_path / "out")
    with Image.open(tmp_path / "out" / "summary.png") as plot:
        assert plot.size[0] > 300 and plot.size[1] > 200


def test_ecsv_catalog_keeps_its_units(tmp_path, model):
    from astropy.table import QTable

    predict_files(model, [pspt_file(tmp_path / f"{NAME}.fits.gz", sun())], tmp_path / "out", catalog_format="ecsv")
    table = QTable.read(tmp_path / "out" / f"{NAME}.catalog.ecsv", format="ascii.ecsv")
    assert len(table) == 1 and table["area_msh"].unit.physical_type == "area"


def test_a_batch_has_a_contact_sheet_that_works_offline(tmp_path, model):
    import re

    inputs = tmp_path / "inputs"
    (inputs / "sub").mkdir(parents=True)
    pspt_file(inputs / f"{NAME}.fits.gz", sun())
    pspt_file(inputs / "sub" / "20140106.1800.HW.R.P.rdc.fits.gz", sun(spot=None))
    (inputs / "broken.fits").write_bytes(b"SIMPLE  = T" + b"\0" * 100)
    out = tmp_path / "out"
    predict_files(model, [inputs], out, recursive=True, model_name="models:/sunspot-localizer/7")
    page = (out / "index.html").read_text()
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(set(links)) == sorted({f"{NAME}.overlay.png", "sub/20140106.1800.HW.R.P.rdc.overlay.png",
                                         "summary.png"})
    assert all((out / link).is_file() for link in links)  # relative, and every one is there
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from elsewhere
    assert "models:/sunspot-localizer/7" in page and "broken.fits" in page and "1 regions" in page


def test_the_contact_sheet_opens_in_a_browser_with_nothing_fetched(tmp_path, model):
    from tests.browser import open_page

    paths = [pspt_file(tmp_path / f"2014010{day}.1800.HW.R.P.rdc.fits.gz", sun()) for day in (5, 6)]
    predict_files(model, paths, tmp_path / "out")
    shown = open_page(tmp_path / "out" / "index.html", tmp_path / "browser")
    assert shown.left_the_machine == []
    assert shown.count("<figure>") == 2 and shown.count('src="summary.png"') == 1 and "<table" in shown.dom
