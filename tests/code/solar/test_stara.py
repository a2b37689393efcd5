"""STARA as a baseline: it finds the spots of a synthetic frame, at the image's own pixels, binned or not; and any
whole-image detector is scored on the split's tiles and whole images alike."""

from pathlib import Path

import numpy as np
import pytest

from sunspotter.evaluation.baseline import score_detector, score_detectors
from sunspotter.evaluation.overlap import PixelOverlap
from sunspotter.io import pspt
from sunspotter.solar import stara
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import SolarImage, read_solar_image


@pytest.fixture(scope="module")
def frame(tiny_archive):
    path = sorted(tiny_archive.glob("*.HW.R.P.rdc.fits.gz"))[0]
    codes, _ = pspt.read_fits(path.with_name(path.name.replace(".R.", ".M.")))
    return read_solar_image(path), pspt.sunspot_mask(codes)


def test_stara_finds_the_spots_of_a_synthetic_frame(frame):
    image, truth = frame
    mask = stara.detect(image, threshold=0.08)
    assert mask.shape == image.data.shape and mask.dtype == np.uint8
    assert truth.sum() > 0 and PixelOverlap.of(truth, mask).dice() > 0.5


def test_a_higher_threshold_calls_fewer_pixels_and_none_past_the_limb_cut(frame):
    image, _ = frame
    loose, strict = stara.detect(image, threshold=0.02), stara.detect(image, threshold=0.2)
    assert strict.sum() < loose.sum() and not (strict & ~loose.astype(bool)).any()
    mu = image.disk.mu(image.data.shape)
    assert not loose[mu < pspt.LIMB_MU].any()


def test_several_thresholds_from_one_top_hat_are_each_threshold_alone(frame):
    image, _ = frame
    thresholds = [0.2, 0.02, 0.08]
    together = stara.detect_each(image, thresholds, arcsec_per_px=2.0)
    assert len(together) == 3 and together[1].sum() > together[2].sum() > together[0].sum() > 0
    for threshold, mask in zip(thresholds, together):
        assert mask.dtype == np.uint8 and np.array_equal(mask, stara.detect(image, threshold, arcsec_per_px=2.0))


def test_binning_keeps_the_image_shape_and_stops_at_the_median_box():
    # A 2-arcsec image binned to 8 arcsec per pixel would pass 5: it is binned 2 x 2.
    data = np.ones((301, 301), np.float32)
    yy, xx = np.mgrid[:301, :301]
    data[(yy - 150) ** 2 + (xx - 150) ** 2 > 100 ** 2] = 0.0  # a sky margin wider than the top-hat
    data[(yy - 150) ** 2 + (xx - 120) ** 2 < 5 ** 2] = 0.3  # a spot 10 px across
    image = SolarImage(data=data, disk=SolarDisk(150.0, 150.0, 100.0), arcsec_per_px=2.0, date=None,
                       source=Path("synthetic"))
    mask = stara.detect(image, threshold=0.3, arcsec_per_px=8.0)
    assert mask.shape == data.shape and np.array_equal(mask, stara.detect(image, threshold=0.3, arcsec_per_px=4.0))
    spot_box = np.zeros_like(mask, dtype=bool)
    spot_box[140:161, 110:131] = True
    assert mask[150, 120] == 1 and not mask[~spot_box].any()


def _true_mask(image):
    """The archive's own mask of ``image``: a detector that is always right."""
    codes, _ = pspt.read_fits(image.source.with_name(image.source.name.replace(".R.", ".M.")))
    return pspt.sunspot_mask(codes)


def test_a_detector_is_scored_on_the_split_tiles_and_whole_images(tiny_archive, good_tiles):
    perfect = score_detector(_true_mask, tiny_archive, good_tiles, name="truth", progress=False, whole_images=True)
    figures = perfect.metrics()
    assert figures["test_dice"] == 1.0 and figures["test_disk_dice"] == 1.0
    assert figures["test_count_exact_fraction"] == 1.0 and figures["test_area_relative_error_median"] == 0.0
    assert figures["test_images"] == len(perfect.overlaps) > 0 and set(perfect.conditions) == set(perfect.overlaps)
    assert figures["test_region_recall"] == 1.0 and figures["test_region_precision"] == 1.0

    blind = score_detector(lambda image: np.zeros(image.data.shape, np.uint8), tiny_archive, good_tiles,
                           name="nothing", progress=False, whole_images=True).metrics()
    assert blind["test_dice"] == 0.0 and blind["test_disk_dice"] == 0.0
    assert blind["test_area_relative_error_median"] == 1.0 and blind["test_count_exact_fraction"] < 1.0
    assert blind["test_region_recall"] == 0.0 and blind["test_region_recall_condition_clean"] == 0.0
    # Without whole images, only the tile figures.
    tiles_only = score_detector(_true_mask, tiny_archive, good_tiles, name="truth", progress=False).metrics()
    assert "test_disk_dice" not in tiles_only and tiles_only["test_dice"] == 1.0


def test_binning_reaches_the_wanted_plate_scale_within_the_median_box():
    assert stara.binning(1.0, 2.0) == 2  # PSPT
    assert stara.binning(0.9997, 2.0) == 2 and stara.binning(1.0168, 2.0) == 2  # PSPT in July and January
    assert stara.binning(0.5, 2.0) == 4  # HMI
    assert stara.binning(1.5, 2.0) == 2  # 3 arcsec per pixel: at least the wanted 2
    assert stara.binning(4.8, 2.0) == 1  # a quick-look is coarser already
    assert stara.binning(1.0, 0.0) == 1
    assert stara.binning(1.0, 9.0) == 5  # the median box must still span two pixels


def test_masks_scored_together_score_as_each_alone(tiny_archive, good_tiles):
    def both(image):
        return [_true_mask(image), np.zeros(image.data.shape, np.uint8)]

    together = score_detectors(both, 2, tiny_archive, good_tiles, name="truth and nothing", progress=False,
                               whole_images=True)
    alone = [score_detector(lambda image, which=which: both(image)[which], tiny_archive, good_tiles, name="one",
                            progress=False, whole_images=True) for which in range(2)]
    assert [scores.metrics() for scores in together] == [scores.metrics() for scores in alone]
    assert together[0].metrics()["test_dice"] == 1.0 and together[1].metrics()["test_dice"] == 0.0
    with pytest.raises(ValueError, match="1 masks of .*where 2 were promised"):
        score_detectors(lambda image: [_true_mask(image)], 2, tiny_archive, good_tiles, name="short", progress=False)
