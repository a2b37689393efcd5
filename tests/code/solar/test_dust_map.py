"""The detector's dust map: a speck that sits on the same pixels frame after frame is found, a spot that
moves with the Sun is not, and a sunspot called on dust is set aside and counted, never silently lost."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.fulldisk.predict import predict_files
from sunspotter.io import pspt
from sunspotter.solar import catalog, dust_map
from sunspotter.solar.solar_image import apparent_radius_arcsec, read_solar_image
from tests.code.fulldisk.test_full_disk import CENTRE, DATE, RADIUS, contrast_model, picture_file, pspt_file, sun

SPECK = (CENTRE[0] - 80.0, CENTRE[1] - 30.0, 5.0)  # x, y, radius (px): fixed on the detector


def with_speck(data: np.ndarray, speck=SPECK, depth=0.5) -> np.ndarray:
    """A dust shadow as the synthetic archive draws it: soft, dark enough to pass for a pore."""
    y, x = np.mgrid[:data.shape[0], :data.shape[1]]
    shadow = np.exp(-0.5 * ((x - speck[0]) ** 2 + (y - speck[1]) ** 2) / (speck[2] / 1.5) ** 2)
    return (data * (1.0 - depth * shadow)).astype(np.float32)


def frames(tmp_path, dusty: int, clear: int):
    """``dusty`` frames with the speck and ``clear`` without; every frame's spot is somewhere else, as the Sun turns."""
    paths = []
    for day in range(dusty + clear):
        spot = (CENTRE[0] - 120.0 + 40.0 * day, CENTRE[1] + 50.0, 8.0)
        data = sun(spot=spot)
        paths.append(pspt_file(tmp_path / f"frame{day}.fits.gz", with_speck(data) if day < dusty else data))
    return [read_solar_image(path) for path in paths]


def test_a_speck_on_many_frames_is_dust_and_a_turning_spot_is_not(tmp_path):
    dust = dust_map.build(frames(tmp_path, dusty=5, clear=3), dark_contrast=0.9, min_frames=4, min_fraction=0.1)
    assert dust.frames == 8
    assert dust.dusty[int(SPECK[1]), int(SPECK[0])]
    assert dust_map.count_patches(dust.dusty) == 1
    for day in range(8):  # no spot position is dust
        assert not dust.dusty[int(CENTRE[1] + 50), int(CENTRE[0] - 120 + 40 * day)]


def test_too_few_dusty_frames_make_no_map(tmp_path):
    dust = dust_map.build(frames(tmp_path, dusty=3, clear=3), dark_contrast=0.9, min_frames=4, min_fraction=0.1)
    assert not dust.dusty.any()


def test_a_long_archive_needs_the_fraction_too(tmp_path):
    dust = dust_map.build(frames(tmp_path, dusty=4, clear=4), dark_contrast=0.9, min_frames=4, min_fraction=0.6)
    assert not dust.dusty.any()  # dark on 4 of 8 frames, the rule asks for 5


@pytest.fixture
def dust_at_speck():
    dusty = np.zeros((512, 512), bool)
    y, x = np.mgrid[:512, :512]
    dusty[np.hypot(x - SPECK[0], y - SPECK[1]) <= SPECK[2] + 1] = True
    return dust_map.DustMap(dusty, frames=10)


def test_a_spot_called_on_dust_is_set_aside_and_counted(tmp_path, dust_at_speck):
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                          dust_map=dust_at_speck)
    path = pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", with_speck(sun()))
    image = read_solar_image(path)
    mask, probability = model.mask(image)
    assert len(catalog.catalog(image, mask)) == 1  # the real spot
    called = probability >= model.threshold
    assert called[int(SPECK[1]), int(SPECK[0])] and not mask[int(SPECK[1]), int(SPECK[0])]
    assert dust_map.count_patches(model.set_aside(image, probability)) == 1
    batch = predict_files(model, [path], tmp_path / "out")
    summary, errors = batch.summary, batch.errors
    assert not errors and summary.loc[0, "regions"] == 1 and summary.loc[0, "dust_set_aside"] == 1


def test_a_sunspot_crossing_a_speck_keeps_its_umbra_and_is_not_set_aside(tmp_path, dust_at_speck):
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                          dust_map=dust_at_speck)
    # A spot of radius 5 px whose edge reaches into the speck: its umbra (2 px) lies just beside the map.
    crossing = (SPECK[0] + 9.0, SPECK[1], 5.0)
    image = read_solar_image(pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", with_speck(sun(spot=crossing))))
    probability = model.probability(image)
    called = probability >= model.threshold
    patches, _ = ndimage.label(called, structure=np.ones((3, 3)))
    spot = patches == patches[int(crossing[1]), int(crossing[0])]
    # Speck and spot are called as one patch lying mostly on dust: the share alone would set it aside.
    assert spot[int(SPECK[1]), int(SPECK[0])] and dust_at_speck.dusty[spot].mean() >= dust_map.VETO_SHARE
    assert not model.set_aside(image, probability).any()
    mask, _ = model.mask(image)
    assert mask[int(crossing[1]), int(crossing[0])]
    assert len(catalog.catalog(image, mask)) == 1


def test_the_map_is_only_used_on_frames_of_its_detector(tmp_path, dust_at_speck):
    """A picture has no PSPT geometry: another camera, whose dust is elsewhere, so both dark patches count."""
    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                          dust_map=dust_at_speck)
    image = read_solar_image(picture_file(tmp_path / "sun.png", with_speck(sun()), text=False))
    assert not dust_at_speck.applies_to(image)
    small = dust_map.DustMap(np.zeros((256, 256), bool), 10)
    assert not small.applies_to(read_solar_image(pspt_file(tmp_path / "f.fits.gz", sun())))  # another size
    assert model.set_aside(image, model.mask(image)[1]).sum() == 0


def test_the_map_round_trips_and_another_file_is_a_clear_error(tmp_path, dust_at_speck):
    dust_map.write(tmp_path / "dust.fits.gz", dust_at_speck)
    again = dust_map.read(tmp_path / "dust.fits.gz")
    assert again.frames == 10 and np.array_equal(again.dusty, dust_at_speck.dusty)
    image_file = pspt_file(tmp_path / "image.fits.gz", sun())
    with pytest.raises(pspt.PSPTFileError, match="image.fits.gz: not a dust map"):
        dust_map.read(image_file)


@pytest.fixture
def saved_with_dust(tmp_path, dust_at_speck):
    from sunspotter.lifecycle.pyfunc import save_full_disk_model

    model = FullDiskModel(contrast_model(), threshold=0.5, arcsec_per_px=apparent_radius_arcsec(DATE) / RADIUS,
                          dust_map=dust_at_speck)
    keras_path = tmp_path / "localizer.keras"
    model.keras_model.save(keras_path)
    save_full_disk_model(model, keras_path, tmp_path / "pyfunc")
    return tmp_path / "pyfunc"


def test_the_served_model_carries_its_dust_map(tmp_path, saved_with_dust, dust_at_speck):
    import mlflow
    import pandas as pd

    from sunspotter.lifecycle.model_source import load

    assert np.array_equal(load(saved_with_dust).model.dust_map.dusty, dust_at_speck.dusty)
    image = pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", with_speck(sun()))
    out = mlflow.pyfunc.load_model(str(saved_with_dust)).predict(pd.DataFrame({"image": [image.read_bytes()]}))
    assert out["regions"].tolist() == [1] and out["dust_set_aside"].tolist() == [1]


def test_predict_can_be_told_to_use_no_map_or_another(tmp_path, saved_with_dust, capsys):
    import pandas as pd

    from sunspotter import cli

    image = pspt_file(tmp_path / "20140105.1800.HW.R.P.rdc.fits.gz", with_speck(sun()))
    out = tmp_path / "out"
    assert cli.main(["predict", str(image), "-m", str(saved_with_dust), "-o", str(out), "--dust-map", "none"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[0, "regions"] == 2 and summary.loc[0, "dust_set_aside"] == 0
    assert cli.main(["predict", str(image), "-m", str(saved_with_dust), "--dust-map", str(image)]) == 1
    assert "not a dust map" in capsys.readouterr().err
