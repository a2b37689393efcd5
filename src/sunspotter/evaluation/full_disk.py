"""Whole-disk evaluation: the full-disk localizer on every held-out observation, scored per image as a
solar physicist would use it: whole-disk Dice, how many sunspot regions, how much sunspot area, and whether
each listed region's catalog row (place, area, spot count) matches one of the true mask's catalog."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from astropy.coordinates import angular_separation

from sunspotter.dataset.frames import Frame
from sunspotter.evaluation.conditions import scored_under
from sunspotter.evaluation.count_errors import CAUSES, count_error_causes
from sunspotter.evaluation.frame_pool import each_frame
from sunspotter.evaluation.overlap import PixelOverlap
from sunspotter.io import pspt
from sunspotter.solar import catalog
from sunspotter.solar.analysis import Analysis, analyse
from sunspotter.solar.segmentation import Segmentation
from sunspotter.solar.solar_image import SolarImage, read_solar_image

#: Region size bins (MSH, from the catalog's listing limit): pores and small spots, spots, groups, large groups.
SIZE_BINS_MSH = [catalog.MIN_AREA_MSH, 30, 100, 300, np.inf]
#: Distance from disk centre: near the limb (from the archive's limb cut), in between, near the centre.
MU_BINS = [pspt.LIMB_MU, 0.4, 0.7, 1.0]  # a region's mean mu is below 1
#: The catalog's acceptance figure counts the listed regions of at least this area (MSH) and mean mu:
#: regions a physicist would compare with NOAA's, large and far enough from the limb to be measured well.
MATCH_MIN_MSH, MATCH_MIN_MU = 50.0, 0.3
#: Two catalog rows match when their centroids are this close on the sphere (degrees), the area is within this
#: fraction of the true region's, and the spot counts (NOAA's NN) differ by at most this many.
MATCH_DEGREES, MATCH_AREA_FRACTION, MATCH_SPOTS = 1.0, 0.10, 1


def score_images(detectors: dict[str, Callable[[SolarImage], Segmentation]], frames: list[Frame],
                 progress: bool = True, desc: str = "full-disk images") -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Per detector: one row per frame (true and predicted region counts and total areas in MSH, whole-disk
    Dice, dust set aside) and one per listed region of either mask (``region_hits``). Each frame is read once
    and handed to every detector; frames are scored side by side (``frame_pool``)."""
    def score_frame(frame: Frame) -> dict[str, tuple[dict, pd.DataFrame]]:
        image = read_solar_image(frame.image, date=frame.date)
        codes, _ = pspt.read_fits(frame.mask)
        truth = pspt.sunspot_mask(codes)
        true_listing = catalog.listed_regions(image, truth)  # once for every detector
        scored = {}
        for name, segment in detectors.items():
            analysis = analyse(image, segment)
            row, hits = score_image(frame.key, frame.date, truth, analysis, true_listing)
            scored[name] = row | {"dust_set_aside": analysis.dust_set_aside}, hits
        return scored

    per_frame = each_frame(score_frame, frames, desc=desc, progress=progress)
    return {name: (image_table([scored[name][0] for scored in per_frame]),
                   pd.concat([scored[name][1] for scored in per_frame], ignore_index=True)) for name in detectors}


def mask_only(detect: Callable[[SolarImage], np.ndarray]) -> Callable[[SolarImage], Segmentation]:
    """A detector that gives a mask alone (a baseline), as one that also says what it set aside (nothing)."""
    return lambda image: as_segmentation(detect(image))


def as_segmentation(mask: np.ndarray) -> Segmentation:
    """A baseline's mask as a segmentation: its own probability, nothing set aside as dust."""
    return Segmentation(mask, mask.astype(np.float32), np.zeros(mask.shape, bool))


def score_image(key: str, date: str, truth: np.ndarray, analysis: Analysis,
                true_listing: tuple[np.ndarray, pd.DataFrame] | None = None) -> tuple[dict, pd.DataFrame]:
    """One whole image's figures (true and predicted region counts and total areas in MSH, pixel overlap, the
    regions the count gained or lost by each cause, ``count_errors``) and its ``region_hits``, from one catalog
    of each mask (a catalog places every region on the sphere: costly; ``true_listing``, the true mask's
    ``catalog.listed_regions``, when already made)."""
    true_labels, true_table = true_listing or catalog.listed_regions(analysis.image, truth)
    guess_labels, guess_table = analysis.labels, analysis.regions
    pixels = PixelOverlap.of(truth, analysis.mask)
    row = {"observation": key, "date": date, "disk_dice": pixels.dice(),
           "true_regions": len(true_table), "predicted_regions": len(guess_table),
           "true_area_msh": catalog.summary(true_table)["total_area_msh"],
           "predicted_area_msh": catalog.summary(guess_table)["total_area_msh"],
           "true_pixels": pixels.truth, "overlap_pixels": pixels.overlap, "predicted_pixels": pixels.guess}
    causes = count_error_causes(true_labels, true_table["label"].to_numpy(),
                                guess_labels, guess_table["label"].to_numpy())
    row |= {f"count_{cause}": number for cause, number in causes.items()}
    return row, region_hits(true_labels, true_table, guess_labels, guess_table).assign(observation=key)


def image_table(rows: list[dict]) -> pd.DataFrame:
    """The rows of ``score_image`` with each image's count error and relative area error."""
    table = pd.DataFrame(rows)
    table["count_error"] = table["predicted_regions"] - table["true_regions"]
    # Relative to the true area; a spot-free disk has no relative error, only whether anything was called.
    true_area = table["true_area_msh"].where(table["true_area_msh"] > 0)
    table["area_relative_error"] = (table["predicted_area_msh"] - table["true_area_msh"]) / true_area
    return table


def image_metrics(table: pd.DataFrame, conditions: dict[str, list[str]]) -> dict:
    """Test figures over the images: pooled whole-disk Dice, exact-count share (overall and per observing
    condition of ``conditions``, observation -> its conditions), median |relative area error|, and the regions
    the counts gained or lost by each cause (``count_errors``), summed over the images."""
    pooled = PixelOverlap(int(table["overlap_pixels"].sum()), int(table["true_pixels"].sum()),
                          int(table["predicted_pixels"].sum()))
    exact = table["count_error"] == 0
    under = table["observation"].map(lambda key: scored_under(conditions[key])).explode()
    return {
        "test_images": int(len(table)),
        "test_disk_dice": float(pooled.dice()),
        "test_count_exact_fraction": float(exact.mean()),
        "test_count_abs_error_mean": float(table["count_error"].abs().mean()),
        "test_area_relative_error_median": float(table["area_relative_error"].abs().median()),
    } | {f"test_count_{cause}": int(table[f"count_{cause}"].sum()) for cause in CAUSES} | {
        f"test_count_exact_fraction_condition_{condition}": float(exact.loc[frames.index].mean())
        for condition, frames in under.groupby(under, sort=True)}


def region_hits(true_labels: np.ndarray, true_table: pd.DataFrame, guess_labels: np.ndarray,
                guess_table: pd.DataFrame) -> pd.DataFrame:
    """One row per listed region (``catalog.listed_regions`` of the true and of the predicted mask): which mask
    it is from (``side``), its area (MSH) and mean mu, and ``hit``: a true region is found when a listed
    predicted region covers part of it (what a catalog user sees); a predicted region is right when it lies
    on a real spot, listed or not (a pore just under the listing limit is no false alarm). A true region also
    has ``measured_msh``: the area of the listed predicted regions that lie mostly on it (0 when missed). Every
    region has ``match``: whether its catalog row matches one of the other catalog's (``matching_rows``)."""
    listed_guess = np.isin(guess_labels, guess_table["label"].to_numpy()) & (guess_labels > 0)
    pairs = matching_rows(guess_table, true_table)
    true = _hits("true", true_labels, true_table, listed_guess, pairs.any(axis=0))
    true["measured_msh"] = _measured_area(true_labels, true_table, np.where(listed_guess, guess_labels, 0), guess_table)
    predicted = _hits("predicted", guess_labels, guess_table, true_labels > 0, pairs.any(axis=1))
    return pd.concat([true, predicted], ignore_index=True)


def _hits(side: str, labels: np.ndarray, table: pd.DataFrame, other: np.ndarray, match: np.ndarray) -> pd.DataFrame:
    # The labels with a pixel on ``other``: one pass over the image (``ndimage.maximum`` per label took 0.5 s a
    # call on a 4096 x 4096 frame, and a frame scored for three detectors makes six calls).
    touching = np.unique(labels[(labels > 0) & other])
    hit = np.isin(table["label"].to_numpy(), touching)
    return pd.DataFrame({"side": side, "area_msh": table["area_msh"].to_numpy(float),
                         "mu": table["mu"].to_numpy(float), "hit": hit, "match": match})


def matching_rows(guess: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """Which rows of a predicted catalog match which of the true one, as an array (guess rows, true rows).

    A pair matches when, as a physicist comparing the two catalogs would ask: the area-weighted centroids lie
    within ``MATCH_DEGREES`` of each other on the sphere (Stonyhurst), the predicted area is within
    ``MATCH_AREA_FRACTION`` of the true one, and the spot counts differ by at most ``MATCH_SPOTS``. A region
    with no place on the sphere (an undated image) matches nothing.
    """
    guess_row = {name: guess[name].to_numpy(float)[:, None] for name in ("hgs_lat_deg", "hgs_lon_deg", "area_msh",
                                                                         "spot_count")}
    true_col = {name: truth[name].to_numpy(float)[None, :] for name in guess_row}
    apart = np.degrees(angular_separation(np.radians(guess_row["hgs_lon_deg"]), np.radians(guess_row["hgs_lat_deg"]),
                                          np.radians(true_col["hgs_lon_deg"]), np.radians(true_col["hgs_lat_deg"])))
    area_off = np.abs(guess_row["area_msh"] - true_col["area_msh"])
    spots_off = np.abs(guess_row["spot_count"] - true_col["spot_count"])
    return (apart <= MATCH_DEGREES) & (area_off <= MATCH_AREA_FRACTION * true_col["area_msh"]) & (spots_off <= MATCH_SPOTS)


def _measured_area(true_labels: np.ndarray, true_table: pd.DataFrame, guess_labels: np.ndarray,
                   guess_table: pd.DataFrame) -> np.ndarray:
    """Per listed true region, the summed area (MSH) of the predicted regions that overlap it most: each
    predicted region counts once, for the true region it shares most pixels with."""
    both = (true_labels > 0) & (guess_labels > 0)
    if not both.any() or not len(true_table):
        return np.zeros(len(true_table))
    overlaps = pd.DataFrame({"true": true_labels[both], "guess": guess_labels[both]}).value_counts().reset_index()
    owner = overlaps.sort_values(["count", "true"], ascending=[False, True]).drop_duplicates("guess")
    area = owner["guess"].map(guess_table.set_index("label")["area_msh"])
    measured = area.groupby(owner["true"]).sum()
    return true_table["label"].map(measured).fillna(0.0).to_numpy(float)


def region_figures(regions: pd.DataFrame, conditions: dict[str, list[str]]) -> pd.DataFrame:
    """Region recall (true regions found) and precision (predicted regions on a real spot) per bin of size
    (MSH), of mu and per observing condition, with the median relative error of the true regions' measured
    areas (``area_error_median`` of its size, ``area_bias_median`` signed: below 0, areas come out small)
    and the catalog's agreement (``catalog_agreement``): ``catalog_match``, the share of the bin's measurable
    listed regions that match a true one, and ``true_catalog_match``, the share of its measurable true regions
    a listed one matches; a predicted region is binned by its own size and mu."""
    regions = regions.assign(size=pd.cut(regions["area_msh"], SIZE_BINS_MSH, right=False),
                             mu_bin=pd.cut(regions["mu"], MU_BINS, right=False))
    by_condition = regions.assign(condition=regions["observation"].map(
        lambda key: scored_under(conditions[key]))).explode("condition").dropna(subset=["condition"])
    rows = []
    for dimension, table, column in (("size_msh", regions, "size"), ("mu", regions, "mu_bin"),
                                     ("condition", by_condition, "condition")):
        for value, group in table.groupby(column, observed=True, sort=True):
            true, predicted = group[group["side"] == "true"], group[group["side"] == "predicted"]
            error = true["measured_msh"] / true["area_msh"] - 1  # a missed region is -100 %
            rows.append({"dimension": dimension, "bin": _bin_name(value), "true_regions": len(true),
                         "found": int(true["hit"].sum()), "predicted_regions": len(predicted),
                         "on_a_spot": int(predicted["hit"].sum()),
                         "area_error_median": float(error.abs().median()) if len(true) else np.nan,
                         "area_bias_median": float(error.median()) if len(true) else np.nan} | catalog_agreement(group))
    table = pd.DataFrame(rows)
    table["recall"] = _share(table["found"], table["true_regions"])
    table["precision"] = _share(table["on_a_spot"], table["predicted_regions"])
    table["catalog_match"] = _share(table["listed_matched"], table["measurable_listed"])
    table["true_catalog_match"] = _share(table["true_matched"], table["measurable_true"])
    return table


def catalog_agreement(regions: pd.DataFrame) -> dict:
    """The catalog's acceptance counts over rows of ``region_hits``: on each side, the measurable regions (at
    least ``MATCH_MIN_MSH`` and mean mu ``MATCH_MIN_MU``) and how many of them match a row of the other catalog.
    The figure is listed regions matched over measurable listed ones; the true side's share says how much of the
    true catalog the listing reproduces (a listing of one good region would pass the first alone)."""
    measurable = regions[(regions["area_msh"] >= MATCH_MIN_MSH) & (regions["mu"] >= MATCH_MIN_MU)]
    listed, true = measurable[measurable["side"] == "predicted"], measurable[measurable["side"] == "true"]
    return {"measurable_listed": len(listed), "listed_matched": int(listed["match"].sum()),
            "measurable_true": len(true), "true_matched": int(true["match"].sum())}


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole, NaN where whole is 0 (no figure, rather than a perfect one)."""
    return part / whole.where(whole > 0)


def region_metrics(regions: pd.DataFrame, conditions: dict[str, list[str]]) -> dict:
    """Region recall and precision over all test images, and per bin (``region_figures``) with the regions'
    median area error and the catalog's match shares, as metric names (a share with no region is left out)."""
    true, predicted = regions[regions["side"] == "true"], regions[regions["side"] == "predicted"]
    metrics = {"test_region_recall": float(true["hit"].mean()) if len(true) else 1.0,
               "test_region_precision": float(predicted["hit"].mean()) if len(predicted) else 1.0}
    agreement = catalog_agreement(regions)
    for name, part, whole in (("catalog_match", "listed_matched", "measurable_listed"),
                              ("true_catalog_match", "true_matched", "measurable_true")):
        if agreement[whole]:
            metrics[f"test_region_{name}"] = agreement[part] / agreement[whole]
    for row in region_figures(regions, conditions).itertuples():
        for name, value in (("recall", row.recall), ("precision", row.precision),
                            ("area_error", row.area_error_median), ("catalog_match", row.catalog_match),
                            ("true_catalog_match", row.true_catalog_match)):
            if pd.notna(value):
                metrics[f"test_region_{name}_{row.dimension}_{row.bin}"] = float(value)
    return metrics


#: Regions at least this large (MSH) are the ones every instrument's images must show: a detector is judged
#: on finding them and on calling no false ones that large.
LARGE_REGION_MSH = 100.0


def large_region_metrics(regions: pd.DataFrame, images: int) -> dict:
    """Recall of the true regions of ``LARGE_REGION_MSH`` or more, and false regions per image: that large,
    and of any listed size (a predicted region is false when it lies on no real spot)."""
    true, predicted = regions[regions["side"] == "true"], regions[regions["side"] == "predicted"]
    large_true = true[true["area_msh"] >= LARGE_REGION_MSH]
    false = predicted[~predicted["hit"]]
    return {"test_region_recall_100_and_up": float(large_true["hit"].mean()) if len(large_true) else 1.0,
            "test_false_regions_per_image": len(false) / max(images, 1),
            "test_false_regions_per_image_100_and_up": int((false["area_msh"] >= LARGE_REGION_MSH).sum()) / max(images, 1)}


def _bin_name(value) -> str:
    """A bin's name as MLflow metric names allow it: "10-30", "300_and_up", "bad_seeing"."""
    if isinstance(value, pd.Interval):
        return f"{value.left:g}-{value.right:g}" if np.isfinite(value.right) else f"{value.left:g}_and_up"
    return str(value)


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
