"""The overlay PNG: the image with the sunspot outlines and region numbers, solar north up.

A file whose WCS is rotated (HMI is stored south up, CROTA2 about 180; a PC matrix can turn it any way) is
turned for display only: the catalog and the mask keep the input's own pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from sunspotter.io import atomic
from sunspotter.solar.orientation import is_north_up, north_up_axes
from sunspotter.solar.solar_image import SolarImage


def north_up_view(array: np.ndarray, axes: np.ndarray, centre: tuple[float, float], order: int) -> np.ndarray:
    """``array`` resampled so that solar north is up, about ``centre`` (x, y), same shape."""
    (west_x, north_x), (west_y, north_y) = axes
    matrix = np.array([[north_y, west_y], [north_x, west_x]])  # (row, col) of input per display (row, col)
    pivot = np.array([centre[1], centre[0]])
    return ndimage.affine_transform(array, matrix, offset=pivot - matrix @ pivot, order=order, mode="constant")


def displayed_at(axes: np.ndarray, centre: tuple[float, float], x: np.ndarray, y: np.ndarray):
    """Display (x, y) of input pixel positions, under ``north_up_view``."""
    offsets = np.linalg.solve(axes, np.vstack([np.asarray(x) - centre[0], np.asarray(y) - centre[1]]))
    return offsets[0] + centre[0], offsets[1] + centre[1]


def write_overlay(path: Path, image: SolarImage, mask: np.ndarray, table: pd.DataFrame, dust: np.ndarray,
                  truth: np.ndarray | None = None) -> None:
    """The image with sunspot outlines (red), region numbers and the spots set aside as dust (cyan), and with
    ``truth`` (the evaluation's) the true outlines (green): a picture in its own orientation, a file with a
    rotated WCS turned solar north up. Arrays are in FITS order; the table's positions in the input's own
    pixels, as the catalog gives them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, mask, dust = image.data, mask.astype(np.float32), dust.astype(np.float32)
    truth = np.zeros_like(mask) if truth is None else truth.astype(np.float32)
    x, y = table["x"].to_numpy(float), table["y"].to_numpy(float)
    origin, note = "lower", ""
    axes_vectors = north_up_axes(image)
    if image.rows_flipped:
        data, mask, dust, truth, origin = data[::-1], mask[::-1], dust[::-1], truth[::-1], "upper"
    elif not is_north_up(axes_vectors):
        centre = (image.disk.center_x, image.disk.center_y)
        data, mask, dust, truth = (north_up_view(a, axes_vectors, centre, order)
                                   for a, order in ((data, 1), (mask, 0), (dust, 0), (truth, 0)))
        x, y = displayed_at(axes_vectors, centre, x, y)
        note = ", turned solar north up"
    figure, axes = plt.subplots(figsize=(8, 8), dpi=100)
    low, high = np.percentile(data, [1, 99.8])
    axes.imshow(data, cmap="gray", origin=origin, vmin=low, vmax=high)
    if truth.any():
        axes.contour(truth, levels=[0.5], colors="lime", linewidths=0.6, origin=origin)
        note += "; true outlines green, predicted red"
    axes.contour(mask, levels=[0.5], colors="red", linewidths=0.6, origin=origin)
    if dust.any():
        axes.contour(dust, levels=[0.5], colors="cyan", linewidths=0.6, origin=origin)
    for region, at_x, at_y in zip(table["region"], x, y):
        axes.annotate(str(region), (at_x, at_y), xytext=(6, 6), textcoords="offset points", color="yellow", fontsize=8)
    area = table["area_msh"].sum() if len(table) else 0
    axes.set_title(f"{image.source.name}: {len(table)} sunspot regions, {area:.0f} MSH{note}")
    axes.set_axis_off()
    save_figure(figure, path)


def save_figure(figure, path: Path) -> None:
    """Write a Matplotlib figure (format from the suffix) to ``path`` all at once, then close it: a batch draws
    many, and pyplot keeps every open figure."""
    import matplotlib.pyplot as plt

    try:
        with atomic.replacing(path) as temporary:
            figure.savefig(temporary, bbox_inches="tight")
    finally:
        plt.close(figure)
