"""Scoring a model on a split: thresholds chosen on val, test metrics, curves and per-condition Dice."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from sunspotter.dataset import stream, tiles
from sunspotter.evaluation.overlap import PixelOverlap
from sunspotter.io import pspt
from sunspotter.models.kinds import ModelKind

EVAL_BATCH = 64
THRESHOLD_BINS = 200


class ScoreHistogram:
    """Scores of positive and negative items (tiles or pixels) counted in bins of width 1/THRESHOLD_BINS.

    Enough to find the F1-best threshold over millions of pixels without keeping them: F1 of the
    positive class and pixel Dice are the same number.
    """

    def __init__(self):
        self.positive = np.zeros(THRESHOLD_BINS, np.int64)
        self.negative = np.zeros(THRESHOLD_BINS, np.int64)

    def add(self, truth: np.ndarray, score: np.ndarray) -> None:
        bins = np.clip((np.asarray(score, np.float64) * THRESHOLD_BINS).astype(np.int64), 0, THRESHOLD_BINS - 1)
        truth = np.asarray(truth).astype(bool)
        self.positive += np.bincount(bins[truth].ravel(), minlength=THRESHOLD_BINS)
        self.negative += np.bincount(bins[~truth].ravel(), minlength=THRESHOLD_BINS)

    def _at_or_above(self) -> tuple[np.ndarray, np.ndarray]:
        """Positives and negatives scoring at or above each bin edge k / THRESHOLD_BINS."""
        return np.cumsum(self.positive[::-1])[::-1], np.cumsum(self.negative[::-1])[::-1]

    def counts_at(self, threshold: float) -> dict[str, int]:
        """Confusion counts when items scoring >= ``threshold`` (a bin edge) are called positive."""
        # ">= threshold" as in classifier_metrics: the first bin edge at or above it (edges are exact up to rounding).
        k = min(int(np.ceil(threshold * THRESHOLD_BINS - 1e-6)), THRESHOLD_BINS - 1)
        true_pos, false_pos = (int(a[k]) for a in self._at_or_above())
        return {"tp": true_pos, "fp": false_pos, "fn": int(self.positive.sum()) - true_pos,
                "tn": int(self.negative.sum()) - false_pos}

    def pr_curve(self) -> pd.DataFrame:
        """Precision and recall at every bin edge (a DVC plot and the PR figure)."""
        true_pos, false_pos = self._at_or_above()
        called = true_pos + false_pos
        return pd.DataFrame({
            "threshold": np.arange(THRESHOLD_BINS) / THRESHOLD_BINS,
            "precision": np.where(called > 0, true_pos / np.maximum(called, 1), 1.0),
            "recall": true_pos / max(int(self.positive.sum()), 1),
        })

    def best_threshold(self) -> tuple[float, float]:
        """(threshold, F1 there): the cut on the bin edges k / THRESHOLD_BINS with the highest F1.

        Ties go to the middle of the best plateau, so a clean separation lands between the classes.
        """
        true_pos, false_pos = self._at_or_above()
        false_neg = self.positive.sum() - true_pos
        denominator = 2 * true_pos + false_pos + false_neg
        f1 = np.where(denominator > 0, 2 * true_pos / np.maximum(denominator, 1), 0.0)
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        k = int(best[len(best) // 2])
        return k / THRESHOLD_BINS, float(f1[k])


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


@dataclass
class SplitScores:
    """One pass of a model over a split: what every metric, curve and figure is computed from."""

    histogram: ScoreHistogram = field(default_factory=ScoreHistogram)
    tile_truth: list = field(default_factory=list)        # classifier: per-tile labels, per batch
    tile_score: list = field(default_factory=list)        # classifier: per-tile probabilities
    per_observation: dict = field(default_factory=dict)   # localizer: observation -> PixelOverlap at the threshold
    examples: list = field(default_factory=list)          # (image, true mask or None, probabilities or None, title)

    def labels_and_scores(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.tile_truth).astype(int), np.concatenate(self.tile_score)

    def best_threshold(self, kind: ModelKind) -> tuple[float, float]:
        """(threshold, F1 there): over the tiles' own scores for the classifier (a few thousand; its batch-norm
        can squeeze every score into one 1/200 bin), over the pixel histogram for the localizer (millions)."""
        if kind.per_tile:
            return best_f1_threshold(*self.labels_and_scores())
        return self.histogram.best_threshold()

    def counts_at(self, kind: ModelKind, threshold: float) -> dict[str, int]:
        """Confusion counts at ``threshold``: exact over tiles for the classifier, from the histogram for pixels."""
        if not kind.per_tile:
            return self.histogram.counts_at(threshold)
        truth, score = self.labels_and_scores()
        truth, guess = truth.astype(bool), score >= threshold
        return {"tp": int((truth & guess).sum()), "fp": int((~truth & guess).sum()),
                "fn": int((truth & ~guess).sum()), "tn": int((~truth & ~guess).sum())}


def best_f1_threshold(truth: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """The F1-best cut over scores: midway between the lowest score called positive and the next one below."""
    if truth.min() == truth.max():
        return 0.5, float(truth.max())
    precision, recall, cuts = skm.precision_recall_curve(truth, score)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    k = int(np.argmax(f1))
    threshold = (cuts[k] + cuts[k - 1]) / 2 if k > 0 else cuts[k]
    return float(threshold), float(f1[k])


def score_split(model, kind: ModelKind, tiles_dir: Path, split: str, threshold: float = 0.5,
                sunspot_examples: int = 6, clear_examples: int = 2, progress: bool = True) -> SplitScores:
    """Run ``model`` over a split's tiles (streamed) and keep scores, overlaps at ``threshold`` and a few examples."""
    from tqdm import tqdm

    index = tiles.read_index(tiles_dir)
    observation_of = index.set_index("tile_id")["observation"]
    scores = SplitScores()
    wanted = {True: sunspot_examples, False: clear_examples}
    bar = tqdm(total=int((index["split"] == split).sum()), desc=f"scoring {kind.name} on {split} tiles", unit="tile",
               disable=not progress)
    for ids, images, targets in stream.make_dataset(tiles_dir, split, kind.target, EVAL_BATCH, with_ids=True):
        bar.update(len(ids))
        predicted = np.asarray(model.predict_on_batch(images), np.float32)
        targets = targets.numpy()
        truth = targets == 1
        # Unlabelled limb pixels are scored as full-disk inference treats them: nothing called there.
        predicted[targets == pspt.UNLABELLED] = 0.0
        scores.histogram.add(truth, predicted)
        names = [tile_id.decode() for tile_id in ids.numpy()]
        if kind.per_tile:
            scores.tile_truth.append(truth.reshape(-1))
            scores.tile_score.append(predicted.reshape(-1))
        else:
            _add_overlaps(scores.per_observation, observation_of.loc[names].to_numpy(), truth, predicted >= threshold)
        has_spot = truth.reshape(len(truth), -1).any(axis=1)
        for i in np.flatnonzero(has_spot):
            _keep_example(scores, wanted, kind, True, images, truth, predicted, names, i)
        for i in np.flatnonzero(~has_spot):
            _keep_example(scores, wanted, kind, False, images, truth, predicted, names, i)
    bar.close()
    return scores


def _add_overlaps(per_observation: dict, observations: np.ndarray, truth: np.ndarray, guess: np.ndarray) -> None:
    """Per-tile counts summed in one pass over the batch, then added to each tile's observation."""
    overlap = (truth & guess).sum(axis=(1, 2, 3))
    true_pixels, guessed = truth.sum(axis=(1, 2, 3)), guess.sum(axis=(1, 2, 3))
    for observation in np.unique(observations):
        mine = observations == observation
        batch = PixelOverlap(int(overlap[mine].sum()), int(true_pixels[mine].sum()), int(guessed[mine].sum()))
        per_observation[observation] = per_observation.get(observation, PixelOverlap()) + batch


def _keep_example(scores: SplitScores, wanted: dict, kind: ModelKind, has_spot: bool, images, truth, predicted, names,
                  i: int) -> None:
    if wanted[has_spot] <= 0:
        return
    wanted[has_spot] -= 1
    if kind.per_tile:
        label = "spot" if has_spot else "clear"
        scores.examples.append((images[i].numpy(), None, None, f"{label}, p={float(predicted[i][0]):.2f}"))
    else:
        scores.examples.append((images[i].numpy(), truth[i], predicted[i], names[i][-10:]))


def split_metrics(kind: ModelKind, scores: SplitScores, threshold: float) -> dict:
    if kind.per_tile:
        return classifier_metrics(*scores.labels_and_scores(), threshold)
    return PixelOverlap.pooled(scores.per_observation.values()).metrics()
