"""Figures logged with every training and evaluation run: learning curves, PR curve, confusion matrix, tile overlays.

Each function returns a matplotlib Figure (headless Agg backend); callers log it with
``mlflow.log_figure`` and close it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def learning_curves(history: dict[str, list[float]], best_epoch: int | None = None):
    """One panel per metric, train and validation lines together; the restored (best) epoch marked."""
    names = sorted({name.split("_", 1)[1] for name in history if "_" in name})
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        for split in ("train", "val"):
            values = history.get(f"{split}_{name}")
            if values:
                ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=split)
        if best_epoch is not None:
            ax.axvline(best_epoch + 1, color="grey", ls=":", label="restored")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def pr_curve(curve: pd.DataFrame, threshold: float, title: str):
    """Precision against recall, the chosen operating threshold marked."""
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot(curve["recall"], curve["precision"], lw=1.5)
    at = curve.iloc[(curve["threshold"] - threshold).abs().argmin()]
    ax.plot(at["recall"], at["precision"], "o", color="C3", label=f"threshold {threshold:.3f}")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def confusion_matrix(counts: dict[str, int], title: str):
    """2 x 2 counts: rows are the truth, columns the prediction."""
    table = np.array([[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]])
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(table, cmap="Blues")
    for (row, col), value in np.ndenumerate(table):
        ax.text(col, row, f"{value:,}", ha="center", va="center",
                color="white" if value > table.max() / 2 else "black")
    ax.set_xticks([0, 1], ["clear", "sunspot"])
    ax.set_yticks([0, 1], ["clear", "sunspot"])
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def tile_overlays(images: np.ndarray, truths: np.ndarray, predictions: np.ndarray, titles: list[str]):
    """Tiles with the true sunspot outline (green) and the model's (red); for the classifier, titles carry p."""
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.5), squeeze=False)
    for ax, image, truth, guess, title in zip(axes[0], images, truths, predictions, titles):
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1.3)
        if truth is not None and truth.any():
            ax.contour(truth[..., 0], levels=[0.5], colors="lime", linewidths=0.8)
        if guess is not None and guess.any():
            ax.contour(guess[..., 0], levels=[0.5], colors="red", linewidths=0.8)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig
