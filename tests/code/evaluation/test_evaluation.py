import numpy as np
import pytest

from sunspotter.evaluation.overlap import PixelOverlap
from sunspotter.evaluation.tile_scores import classifier_metrics


def test_classifier_metrics_on_known_answers():
    truth = np.array([1, 1, 0, 0, 1, 0])
    probability = np.array([0.9, 0.4, 0.2, 0.6, 0.8, 0.1])
    m = classifier_metrics(truth, probability, threshold=0.5)
    assert m["test_accuracy"] == pytest.approx(4 / 6)
    assert m["test_precision"] == pytest.approx(2 / 3)
    assert m["test_recall"] == pytest.approx(2 / 3)
    assert m["test_f1"] == pytest.approx(2 / 3)
    assert m["test_roc_auc"] == pytest.approx(8 / 9)


def test_pixel_dice_and_iou_are_pooled_over_tiles():
    overlap = PixelOverlap()
    overlap.add(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0]))
    overlap.add(np.zeros(4), np.zeros(4))  # an empty tile, predicted empty, changes nothing
    m = overlap.metrics()
    assert m["test_dice"] == pytest.approx(0.5) and m["test_iou"] == pytest.approx(1 / 3)


def test_threshold_is_chosen_where_f1_is_best():
    from sunspotter.evaluation.tile_scores import ScoreHistogram

    histogram = ScoreHistogram()
    # Positives score 0.30-0.39, negatives 0.10-0.19 and one at 0.35: any cut in (0.19, 0.30] is perfect
    # but for that one negative; cuts above 0.35 lose positives.
    histogram.add(np.array([1] * 10 + [0] * 11), np.r_[np.linspace(0.30, 0.39, 10), np.linspace(0.10, 0.19, 10), 0.355])
    threshold, f1 = histogram.best_threshold()
    assert 0.19 < threshold <= 0.30
    assert f1 == pytest.approx(2 * 10 / (2 * 10 + 1))
    assert histogram.counts_at(threshold) == {"tp": 10, "fp": 1, "fn": 0, "tn": 10}
    curve = histogram.pr_curve()
    assert curve["recall"].iloc[0] == 1.0 and curve["recall"].iloc[-1] == 0.0
    assert curve["recall"].is_monotonic_decreasing


def test_threshold_f1_equals_pixel_dice():
    from sunspotter.evaluation.tile_scores import ScoreHistogram

    rng = np.random.default_rng(0)
    truth = rng.random((4, 16, 16)) < 0.1
    score = np.clip(truth * 0.6 + rng.random(truth.shape) * 0.5, 0, 1)
    histogram = ScoreHistogram()
    histogram.add(truth, score)
    threshold, f1 = histogram.best_threshold()
    overlap = PixelOverlap()
    overlap.add(truth, score >= threshold)
    assert overlap.dice() == pytest.approx(f1)


def test_dice_by_condition_pools_frames_and_groups_the_hard_ones():
    from sunspotter.evaluation.overlap import dice_by_condition

    def overlap(hit, truth, guess):
        o = PixelOverlap()
        o.overlap, o.truth, o.guess = hit, truth, guess
        return o

    per_observation = {"a": overlap(9, 10, 10), "b": overlap(1, 10, 10), "c": overlap(5, 10, 10)}
    conditions = {"a": ["clean"], "b": ["cloud", "dust"], "c": ["bad_seeing"]}
    m = dice_by_condition(per_observation, conditions)
    assert m["test_dice_clean"] == pytest.approx(0.9)
    assert m["test_dice_cloud"] == m["test_dice_dust"] == pytest.approx(0.1)
    assert m["test_dice_hard"] == pytest.approx(2 * 6 / 40)
    assert m["test_frames_hard"] == 2 and m["test_frames_clean"] == 1


def test_exact_counts_per_condition_group_the_hard_frames_as_dice_does():
    import pandas as pd

    from sunspotter.evaluation.count_errors import CAUSES
    from sunspotter.evaluation.full_disk import image_metrics

    # Four frames: clean and exact, dusty and cloudy one too many, bad seeing exact, bad seeing two short.
    table = pd.DataFrame({"observation": ["a", "b", "c", "d"], "count_error": [0, 1, 0, -2],
                          "area_relative_error": [0.0, 0.1, -0.1, -0.2], "overlap_pixels": 1, "true_pixels": 1,
                          "predicted_pixels": 1} | {f"count_{cause}": 0 for cause in CAUSES})
    conditions = {"a": ["clean"], "b": ["dust", "cloud"], "c": ["bad_seeing"], "d": ["bad_seeing"]}
    m = image_metrics(table, conditions)
    assert m["test_count_exact_fraction"] == pytest.approx(0.5)
    assert m["test_count_exact_fraction_condition_clean"] == 1.0
    assert m["test_count_exact_fraction_condition_dust"] == m["test_count_exact_fraction_condition_cloud"] == 0.0
    assert m["test_count_exact_fraction_condition_bad_seeing"] == pytest.approx(0.5)
    assert m["test_count_exact_fraction_condition_hard"] == pytest.approx(1 / 3)
    # One figure per condition a frame has, and "hard": nothing for conditions no frame has.
    per_condition = {key.removeprefix("test_count_exact_fraction_condition_") for key in m
                     if key.startswith("test_count_exact_fraction_condition_")}
    assert per_condition == {"clean", "dust", "cloud", "bad_seeing", "hard"}


def test_frame_conditions_from_synthetic_header_keys():
    from astropy.io import fits

    from sunspotter.io.pspt import frame_conditions, main_condition

    header = fits.Header({"SYNDUST": True, "SYNCLOUD": 0.2, "SYNBADSE": False})
    assert frame_conditions(header) == ["dust", "cloud"]
    assert frame_conditions(fits.Header({"SYNDUST": False, "SYNCLOUD": 0.0, "SYNBADSE": False})) == ["clean"]
    assert frame_conditions(fits.Header({"DATE_OBS": "2014-01-02T18:00:00"})) == ["unknown"]
    assert main_condition(["dust", "cloud"]) == "cloud"  # the rarer one
    assert main_condition(["dust", "bad_seeing"]) == "bad_seeing"
    assert main_condition(["clean"]) == "clean" and main_condition(["unknown"]) == "unknown"


def test_classifier_threshold_separates_scores_squeezed_into_one_bin():
    """Batch norm can push every tile's score above 0.995: the cut must still fall between the classes."""
    from sunspotter.evaluation.tile_scores import best_f1_threshold

    truth = np.array([0, 0, 0, 1, 1])
    score = np.array([0.9951, 0.9952, 0.9953, 0.9971, 0.9972])
    threshold, f1 = best_f1_threshold(truth, score)
    assert 0.9953 < threshold < 0.9971 and f1 == 1.0
