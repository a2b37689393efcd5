"""Full-disk inference and the catalog: readers for every kind of input, disk fitting, seamless tiling,
resampling, areas and heliographic positions, and per-file errors in a batch."""

from __future__ import annotations

import datetime as dt

import astropy.units as u
import keras
import numpy as np
import pytest
from astropy.io import fits
from PIL import Image, ImageDraw

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.fulldisk.predict import predict_files
from sunspotter.io import pspt
from sunspotter.solar import catalog
from sunspotter.solar.classical import CONTRAST_CUT
from sunspotter.solar.disk_fit import fit_disk
from sunspotter.solar.solar_image import SolarImageError, apparent_radius_arcsec, read_solar_image

DATE = dt.datetime(2014, 1, 5, 18, 0)
SIZE, RADIUS = 512, 200.0
CENTRE = (255.5 + 3.0, 255.5 - 5.0)  # slightly off centre (x, y)
SPOT = (CENTRE[0] + 60.0, CENTRE[1] + 40.0, 10.0)  # x, y, radius (px): north-west of centre in FITS rows


def sun(size=SIZE, radius=RADIUS, centre=CENTRE, spot=SPOT, sky=50.0, peak=4000.0) -> np.ndarray:
    """A limb-darkened disk (row 0 at the bottom) with one round spot: umbra 0.3, penumbra 0.8 of the quiet Sun."""
    y, x = np.mgrid[:size, :size].astype(np.float64)
    r = np.hypot(x - centre[0], y - centre[1]) / radius
    mu = np.sqrt(np.clip(1 - r**2, 0, None))
    image = np.where(r <= 1, peak * (0.4 + 0.6 * mu), 0.0)
    if spot is not None:
        d = np.hypot(x - spot[0], y - spot[1])
        image *= np.where(d <= spot[2] * 0.4, 0.3, np.where(d <= spot[2], 0.8, 1.0))
    return (image + sky).astype(np.float32)


def contrast_model(tile_size: int = 128) -> keras.Model:
    """A stand-in localizer: sigmoid(60 (cut - contrast)) per pixel, i.e. the classical detector as a 1x1 conv."""
    inputs = keras.Input((tile_size, tile_size, 1))
    layer = keras.layers.Conv2D(1, 1, activation="sigmoid")
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights([np.full((1, 1, 1, 1), -60.0, np.float32), np.array([60.0 * CONTRAST_CUT], np.float32)])
    return model


def pspt_file(path, data):
    header = fits.Header()
    header["DATE_OBS"] = DATE.strftime("%Y-%m-%dT%H:%M:%S")
    header["CENTER_X"], header["CENTER_Y"], header[pspt.RADIUS_KEY] = CENTRE[0], CENTRE[1], RADIUS
    pspt.write_fits(path, data, header)
    return path


def wcs_file(path, data, arcsec_per_px, centre=CENTRE):
    """A FITS file with a solar WCS only (as from HMI or GONG): no PSPT keys."""
    import sunpy.map
    from astropy.coordinates import SkyCoord
    from sunpy.coordinates import frames

    sun_centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, obstime=DATE, observer="earth", frame=frames.Helioprojective)
    header = sunpy.map.make_fitswcs_header(data.shape, sun_centre, reference_pixel=list(centre) * u.pix,
                                           scale=[arcsec_per_px] * 2 * u.arcsec / u.pix)
    fits.PrimaryHDU(data, fits.Header(header)).writeto(path)
    return path


def picture_file(path, data, text=True):
    """An 8-bit picture as an observatory publishes it: rows top-down, with a caption burnt in off the disk."""
    grey = np.clip(data[::-1] / data.max() * 255, 0, 255).astype(np.uint8)
    picture = Image.fromarray(grey).convert("RGB")
    if text:
        draw = ImageDraw.Draw(picture)
        draw.rectangle([5, 5, 200, 30], fill=(255, 255, 255))
        draw.text((8, SIZE - 20), "PSPT 2014-01-05 18:00 UT  red continuum", fill=(255, 255, 255))
    picture.save(path)
    return path


@pytest.fixture
def model():
    return FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS)


def spot_area_msh(spot_radius_px=SPOT[2], radius=RADIUS, spot=SPOT, centre=CENTRE):
    mu = np.sqrt(1 - ((spot[0] - centre[0]) ** 2 + (spot[1] - centre[1]) ** 2) / radius**2)
    return np.pi * spot_radius_px**2 / mu / (2 * np.pi * radius**2) * 1e6


def test_disk_fit_ignores_text_burnt_into_the_picture(tmp_path):
    path = picture_file(tmp_path / "sun.png", sun())
    image = read_solar_image(path)
    assert image.rows_flipped
    assert abs(image.disk.center_x - CENTRE[0]) < 1.0 and abs(image.disk.center_y - CENTRE[1]) < 1.0
    assert abs(image.disk.radius - RADIUS) < 1.0
    # No date: the plate scale comes from the yearly mean solar radius.
    assert image.arcsec_per_px == pytest.approx(959.63 / image.disk.radius)


def test_disk_fit_survives_a_caption_touching_the_limb():
    data = sun()
    row, limb = int(CENTRE[1]), int(CENTRE[0] + RADIUS)
    data[row - 6:row + 6, limb - 5:limb + 60] = data.max()  # a bright label box overlapping the limb
    disk = fit_disk(data)
    assert abs(disk.center_x - CENTRE[0]) < 1.5 and abs(disk.radius - RADIUS) < 1.5


def test_a_picture_without_a_sun_is_a_clear_error(tmp_path):
    path = tmp_path / "dark.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(path)
    with pytest.raises(SolarImageError, match="dark.png: no solar disk found"):
        read_solar_image(path)


def test_pspt_fits_finds_the_spot_with_its_area_and_position(tmp_path, model):
    image = read_solar_image(pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun()))
    mask, probability = model.mask(image)
    table = catalog.catalog(image, mask)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.x, row.y) == pytest.approx(SPOT[:2], abs=0.5)
    assert row.area_msh == pytest.approx(spot_area_msh(), rel=0.15)
    # Umbra is 0.4 of the radius: 16 % of the area.
    assert row.umbra_msh / row.area_msh == pytest.approx(0.16, abs=0.06)
    assert row.mean_contrast < 0.8
    # Seen from Earth on 5 January the disk centre is at latitude B0 = -3.6 deg; the spot is north-west of it.
    assert -5 < row.latitude_deg - (-3.55) - np.degrees(np.arcsin(40 / RADIUS)) < 5
    assert row.longitude_deg > 0


def test_tiles_blend_without_seams(model):
    """A model that answers the same everywhere gives the same probability across every tile border."""
    flat = np.full((300, 300), 0.5, np.float32)
    constant = FullDiskModel(contrast_model(), 0.5, 1.0, overlap=32)
    probability = constant._over_tiles(flat, np.ones_like(flat, bool))
    assert np.allclose(probability, probability[0, 0], atol=1e-5)


def test_wcs_fits_at_another_plate_scale_is_resampled(tmp_path, model):
    """An image at half the model's resolution: resampled up for the model, the mask comes back on its own grid."""
    half = SIZE // 2
    centre = ((CENTRE[0] + 0.5) / 2 - 0.5, (CENTRE[1] + 0.5) / 2 - 0.5)
    spot = ((SPOT[0] + 0.5) / 2 - 0.5, (SPOT[1] + 0.5) / 2 - 0.5, SPOT[2] / 2)
    data = sun(size=half, radius=RADIUS / 2, centre=centre, spot=spot)
    y, x = np.mgrid[:half, :half]
    data[np.hypot(x - centre[0], y - centre[1]) > RADIUS / 2 + 2] = np.nan  # blank sky, as HMI writes it
    # Twice the model's arcsec per pixel; the WCS radius follows from the date.
    scale = 2 * model.arcsec_per_px
    image = read_solar_image(wcs_file(tmp_path / "hmi_like.fits", data, scale, centre))
    assert image.disk.radius == pytest.approx(apparent_radius_arcsec(DATE) / scale, rel=1e-3)
    mask, probability = model.mask(image)
    assert mask.shape == data.shape and np.isfinite(probability).all()
    table = catalog.catalog(image, mask)
    assert len(table) == 1
    assert (table.iloc[0].x, table.iloc[0].y) == pytest.approx(spot[:2], abs=0.7)


def test_picture_positions_are_in_picture_coordinates(tmp_path, model):
    image = read_solar_image(picture_file(tmp_path / "sun.png", sun(), text=False), date="2014-01-05")
    table = catalog.catalog(image, model.mask(image)[0])
    assert len(table) == 1
    # Picture rows run top-down: the spot's row is counted from the top.
    assert (table.iloc[0].x, table.iloc[0].y) == pytest.approx((SPOT[0], SIZE - 1 - SPOT[1]), abs=1.0)
    assert np.isfinite(table.iloc[0].latitude_deg)


def test_batch_goes_on_past_a_bad_file(tmp_path, model):
    good = pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun())
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  = T" + b"\0" * 100)
    batch = predict_files(model, [bad, good], tmp_path / "out")
    summary, errors = batch.summary, batch.errors
    assert list(summary["image"]) == [good.name] and summary["regions"].tolist() == [1]
    assert list(errors) == [str(bad)] and "broken.fits" in errors[str(bad)]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["20140105.1800.HW.R.P.rdc.catalog.csv", "20140105.1800.HW.R.P.rdc.mask.fits",
                       "20140105.1800.HW.R.P.rdc.overlay.png", "index.html", "summary.csv", "summary.png"]
    with fits.open(tmp_path / "out" / "20140105.1800.HW.R.P.rdc.mask.fits") as hdul:
        assert hdul[1].data.sum() > 0 and hdul[1].header["CTYPE1"] == "HPLN-TAN"


def test_spot_free_disk_has_an_empty_catalog(tmp_path, model):
    image = read_solar_image(pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", sun(spot=None)))
    table = catalog.catalog(image, model.mask(image)[0])
    assert len(table) == 0 and catalog.summary(table) == {"regions": 0, "total_area_msh": 0.0, "total_umbra_msh": 0.0}


def jp2_file(path, data, arcsec_per_px):
    """A Helioviewer-style JPEG2000: 8-bit pixels (rows top-down) and the FITS header in an XML box."""
    import glymur
    from lxml import etree

    header = fits.getheader(wcs_file(path.with_suffix(".fits"), data, arcsec_per_px))
    pixels = np.clip(data / data.max() * 255, 0, 255).astype(np.uint8)[::-1]
    plain = glymur.Jp2k(str(path.with_suffix(".raw.jp2")), data=pixels)
    meta = etree.Element("meta")
    cards = etree.SubElement(meta, "fits")
    for card in header.cards:
        if card.keyword not in ("", "COMMENT", "HISTORY"):
            etree.SubElement(cards, card.keyword).text = str(card.value)
    boxes = plain.box
    boxes.insert(3, glymur.jp2box.XMLBox(xml=etree.ElementTree(meta)))
    plain.wrap(str(path), boxes=boxes)
    return path


def test_jpeg2000_with_solar_metadata(tmp_path, model):
    glymur = pytest.importorskip("glymur")
    if glymur.version.openjpeg_version < "2.3":
        pytest.skip("the OpenJPEG library (libopenjp2-7, installed by `make setup` where apt is allowed) is missing")
    image = read_solar_image(jp2_file(tmp_path / "sun.jp2", sun(), model.arcsec_per_px))
    assert (image.disk.center_x, image.disk.center_y) == pytest.approx(CENTRE, abs=0.01)
    assert image.disk.radius == pytest.approx(RADIUS, rel=0.01) and image.date == DATE
    table = catalog.catalog(image, model.mask(image)[0])
    assert len(table) == 1 and (table.iloc[0].x, table.iloc[0].y) == pytest.approx(SPOT[:2], abs=1.0)
