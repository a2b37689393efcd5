"""Test-split metrics of both models, computed from the shards with the threshold from params."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn import metrics as skm

from sunspotter import tiles

EVAL_BATCH = 64


def classifier_metrics(truth: np.ndarray, probability: np.ndarray, threshold: float) -> dict:
    """Accuracy, precision, recall, F1 and ROC AUC (AUC is undefined, so NaN-free 0.5, when one class is absent)."""
    guess = probability >= threshold
    both_classes = len(np.unique(truth)) == 2
    return {
        "test_accuracy": float(skm.accuracy_score(truth, guess)),
        "test_precision": float(skm.precision_score(truth, guess, zero_division=0)),
        "test_recall": float(skm.recall_score(truth, guess, zero_division=0)),
        "test_f1": float(skm.f1_score(truth, guess, zero_division=0)),
        "test_roc_auc": float(skm.roc_auc_score(truth, probability)) if both_classes else 0.5,
        "test_tiles": int(len(truth)),
        "test_positive_tiles": int(truth.sum()),
    }


class PixelOverlap:
    """Sunspot-pixel Dice and IoU accumulated over many tiles (pooled, so empty tiles do not skew it)."""

    def __init__(self):
        self.overlap = self.truth = self.guess = 0

    def add(self, truth: np.ndarray, guess: np.ndarray) -> None:
        truth, guess = truth.astype(bool), guess.astype(bool)
        self.overlap += int(np.count_nonzero(truth & guess))
        self.truth += int(np.count_nonzero(truth))
        self.guess += int(np.count_nonzero(guess))

    def metrics(self) -> dict:
        union = self.truth + self.guess - self.overlap
        # No spot anywhere and none predicted is a perfect answer.
        dice = 2 * self.overlap / (self.truth + self.guess) if self.truth + self.guess else 1.0
        iou = self.overlap / union if union else 1.0
        return {"test_dice": float(dice), "test_iou": float(iou), "test_sunspot_pixels": self.truth}


def evaluate_classifier(model, tiles_dir: Path, threshold: float) -> dict:
    truths, probabilities = [], []
    for images, labels in tiles.make_dataset(tiles_dir, "test", "classifier", EVAL_BATCH):
        probabilities.append(model.predict_on_batch(images).reshape(-1))
        truths.append(labels.numpy().reshape(-1))
    return classifier_metrics(np.concatenate(truths).astype(int), np.concatenate(probabilities), threshold)


def evaluate_localizer(model, tiles_dir: Path, threshold: float) -> dict:
    overlap = PixelOverlap()
    for images, masks in tiles.make_dataset(tiles_dir, "test", "localizer", EVAL_BATCH):
        overlap.add(masks.numpy() > 0.5, np.asarray(model.predict_on_batch(images)) >= threshold)
    return overlap.metrics()


EVALUATORS = {"classifier": evaluate_classifier, "localizer": evaluate_localizer}
