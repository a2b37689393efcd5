import numpy as np
import pytest

from sunspotter.evaluation import PixelOverlap, classifier_metrics


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
