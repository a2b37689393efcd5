"""Whole-disk evaluation: the full-disk localizer on every held-out observation, scored per image as a
solar physicist would use it: whole-disk Dice, how many sunspot regions, how much sunspot area."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sunspotter import catalog, classical, pspt, tiles
from sunspotter.dust_map import count_patches
from sunspotter.inference import FullDiskModel
from sunspotter.solar_image import SolarImage, read_solar_image


def score_images(model: FullDiskModel, pairs: dict[str, tiles.Pair], progress: bool = True) -> pd.DataFrame:
    """One row per observation: true and predicted region counts and total areas (MSH), whole-disk Dice."""
    from tqdm import tqdm

    rows = []
    for key, pair in tqdm(sorted(pairs.items()), desc="full-disk test images", unit="image", disable=not progress):
        image = read_solar_image(pair.images[0])
        codes, _ = pspt.read_fits(pair.mask)
        segmentation = model.segment(image)
        rows.append(image_row(key, pair, image, pspt.sunspot_mask(codes), segmentation.mask)
                    | {"dust_set_aside": count_patches(segmentation.dust)})
    return image_table(rows)


def image_row(key: str, pair: tiles.Pair, image: SolarImage, truth: np.ndarray, guess: np.ndarray) -> dict:
    """One whole image's figures: true and predicted region counts and total areas (MSH), pixel overlap."""
    true_table, guess_table = catalog.catalog(image, truth), catalog.catalog(image, guess)
    truth, guess = truth.astype(bool), guess.astype(bool)
    return {"observation": key, "date": pair.observation.iso_date, "disk_dice": classical.dice(truth, guess),
            "true_regions": len(true_table), "predicted_regions": len(guess_table),
            "true_area_msh": catalog.summary(true_table)["total_area_msh"],
            "predicted_area_msh": catalog.summary(guess_table)["total_area_msh"],
            "true_pixels": int(truth.sum()), "overlap_pixels": int((truth & guess).sum()),
            "predicted_pixels": int(guess.sum())}


def image_table(rows: list[dict]) -> pd.DataFrame:
    """The rows of ``image_row`` with each image's count error and relative area error."""
    table = pd.DataFrame(rows)
    table["count_error"] = table["predicted_regions"] - table["true_regions"]
    # Relative to the true area; a spot-free disk has no relative error, only whether anything was called.
    true_area = table["true_area_msh"].where(table["true_area_msh"] > 0)
    table["area_relative_error"] = (table["predicted_area_msh"] - table["true_area_msh"]) / true_area
    return table


def image_metrics(table: pd.DataFrame) -> dict:
    """Test figures over the images: pooled whole-disk Dice, exact-count share, median |relative area error|."""
    called = table["true_pixels"].sum() + table["predicted_pixels"].sum()
    return {
        "test_images": int(len(table)),
        "test_disk_dice": float(2 * table["overlap_pixels"].sum() / called) if called else 1.0,
        "test_count_exact_fraction": float((table["count_error"] == 0).mean()),
        "test_count_abs_error_mean": float(table["count_error"].abs().mean()),
        "test_area_relative_error_median": float(table["area_relative_error"].abs().median()),
    }


def area_figure(table: pd.DataFrame):
    """True and predicted total sunspot area over the test dates, and one against the other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = table.sort_values("date")
    figure, (by_date, against) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [1.6, 1]})
    dates = pd.to_datetime(table["date"])
    by_date.plot(dates, table["true_area_msh"], "o-", color="black", label="true (mask codes 7, 8)")
    by_date.plot(dates, table["predicted_area_msh"], "s--", color="tab:red", label="predicted (full-disk localizer)")
    by_date.set(xlabel="test date", ylabel="total sunspot area (MSH)", title="Whole-disk sunspot area, test dates")
    by_date.legend()
    by_date.tick_params(axis="x", labelrotation=30)
    top = max(float(table[["true_area_msh", "predicted_area_msh"]].max().max()), 1.0) * 1.08
    against.plot([0, top], [0, top], color="grey", linewidth=0.8)
    against.scatter(table["true_area_msh"], table["predicted_area_msh"], s=22, color="tab:red", zorder=3)
    against.set(xlim=(0, top), ylim=(0, top), xlabel="true (MSH)", ylabel="predicted (MSH)",
                title="predicted against true")
    figure.tight_layout()
    return figure
