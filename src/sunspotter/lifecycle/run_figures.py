"""Figures of a model on a split, logged as artifacts of its MLflow run: the training run's own at val, and
evaluate's at test into the same run."""

from __future__ import annotations

import mlflow
import numpy as np

from sunspotter.evaluation import plots
from sunspotter.evaluation.tile_scores import SplitScores
from sunspotter.lifecycle import tracking
from sunspotter.models.kinds import ModelKind


def log_figures(kind: ModelKind, split: str, scores: SplitScores, threshold: float, curves: dict | None = None,
                best_epoch: int | None = None, run_id: str | None = None) -> None:
    """Learning curves (when given), PR curve, confusion matrix and example tiles of ``split`` as run artifacts."""
    title = f"{kind.name}, {split} {kind.unit}"
    figures = {
        f"{split}_pr_curve.png": plots.pr_curve(scores.histogram.pr_curve(), threshold, title),
        f"{split}_confusion.png": plots.confusion_matrix(scores.counts_at(kind, threshold), title),
    }
    if scores.examples:
        images, truths, probabilities, titles = zip(*scores.examples)
        guesses = [None if p is None else p >= threshold for p in probabilities]
        figures[f"{split}_tiles.png"] = plots.tile_overlays(np.stack(images), truths, guesses, list(titles))
    if curves:
        figures["learning_curves.png"] = plots.learning_curves(curves, best_epoch)
    for name, figure in figures.items():
        if run_id:
            tracking.client().log_figure(run_id, figure, f"figures/{name}")
        else:
            mlflow.log_figure(figure, f"figures/{name}")
        plots.plt.close(figure)
