"""Region recall and precision: which true regions a catalog finds and which of its regions lie on real spots;
and the catalog's acceptance figure: which of its rows match a row of the true mask's catalog."""

from __future__ import annotations

import numpy as np
import pytest

from sunspotter.evaluation import full_disk
from sunspotter.solar import catalog
from tests.code.solar.test_catalog import NO_TILT, disk_image, spots_at


def region_hits(image, truth, guess):
    return full_disk.region_hits(*catalog.listed_regions(image, truth), *catalog.listed_regions(image, guess))


def test_found_regions_false_alarms_and_their_bins():
    image = disk_image()
    big, small, near_limb = (10, 0), (-20, 30), (0, 70)
    truth = spots_at(big, small, near_limb, radius_deg=1.5)
    # The catalog finds the big spot and the one near the limb, misses the small one and calls a false one.
    guess = spots_at(big, near_limb, (30, -40), radius_deg=1.5) | spots_at(small, radius_deg=0.2)
    hits = region_hits(image, truth, guess)
    true, predicted = hits[hits["side"] == "true"], hits[hits["side"] == "predicted"]
    assert len(true) == 3 and true["hit"].sum() == 2  # the small spot's speck is under the listing limit
    assert len(predicted) == 3 and predicted["hit"].sum() == 2

    table = full_disk.region_figures(hits.assign(observation="a"), {"a": ["dust", "cloud"]})
    by_condition = table[table["dimension"] == "condition"].set_index("bin")
    # A frame's regions count under each of its conditions, and once under "hard" for them all.
    assert list(by_condition.index) == ["cloud", "dust", "hard"] and by_condition.loc["hard", "true_regions"] == 3
    assert by_condition.loc["dust", "recall"] == 2 / 3 and by_condition.loc["dust", "precision"] == 2 / 3
    by_mu = table[table["dimension"] == "mu"].set_index("bin")
    assert by_mu.loc["0.15-0.4", "true_regions"] == 1 and by_mu.loc["0.15-0.4", "recall"] == 1.0  # at 70 degrees
    sizes = table[table["dimension"] == "size_msh"]
    assert sizes["true_regions"].sum() == 3 and sizes["predicted_regions"].sum() == 3


def test_nothing_called_is_no_precision_and_no_recall():
    image = disk_image()
    hits = region_hits(image, spots_at((0, 0), radius_deg=1.5), np.zeros((1024, 1024), np.uint8))
    table = full_disk.region_figures(hits.assign(observation="a"), {"a": ["clean"]})
    clean = table[table["bin"] == "clean"].iloc[0]
    assert clean["recall"] == 0.0 and clean["predicted_regions"] == 0 and np.isnan(clean["precision"])
    assert "hard" not in set(table["bin"])  # no hard frame, no hard bin
    metrics = full_disk.region_metrics(hits.assign(observation="a"), {"a": ["clean"]})
    assert metrics["test_region_recall"] == 0.0 and metrics["test_region_precision"] == 1.0  # nothing called wrongly
    assert "test_region_precision_condition_clean" not in metrics


def test_large_regions_recall_and_false_regions_per_image():
    image = disk_image()
    big, other_big = (10, 0), (-20, 30)
    truth = spots_at(big, other_big, radius_deg=3.0)
    guess = spots_at(big, (30, -40), radius_deg=3.0) | spots_at((0, 60), radius_deg=0.7)  # one big, two false
    hits = region_hits(image, truth, guess)
    assert hits.loc[hits["side"] == "true", "area_msh"].min() >= full_disk.LARGE_REGION_MSH
    metrics = full_disk.large_region_metrics(hits, images=2)
    assert metrics["test_region_recall_100_and_up"] == 0.5
    assert metrics["test_false_regions_per_image"] == 1.0  # two false regions over two images
    small_false = hits[(hits["side"] == "predicted") & ~hits["hit"]]["area_msh"].min()
    assert small_false < full_disk.LARGE_REGION_MSH and metrics["test_false_regions_per_image_100_and_up"] == 0.5


def test_each_true_region_gets_the_area_measured_on_it():
    image = disk_image()
    left, right = (10, -20), (10, 20)
    truth = spots_at(left, right, radius_deg=2.0)
    # The left spot measured larger, the right one missed, and a false region that must not count for either.
    guess = spots_at(left, radius_deg=2.4) | spots_at((-30, 0), radius_deg=2.0)
    hits = region_hits(image, truth, guess)
    true = hits[hits["side"] == "true"].sort_values("mu")
    measured = dict(zip(true["hit"], true["measured_msh"] / true["area_msh"]))
    assert measured[False] == 0.0
    assert measured[True] == pytest.approx(1.44, rel=0.08)  # (2.4 / 2.0) squared
    table = full_disk.region_figures(hits.assign(observation="a"), {"a": ["clean"]})
    clean = table[table["bin"] == "clean"].iloc[0]
    assert clean["area_error_median"] == pytest.approx((1.0 + 0.44) / 2, rel=0.1)
    assert clean["area_bias_median"] == pytest.approx((-1.0 + 0.44) / 2, rel=0.2)
    metrics = full_disk.region_metrics(hits.assign(observation="a"), {"a": ["clean"]})
    assert metrics["test_region_area_error_condition_clean"] == clean["area_error_median"]


#: A spot 2 degrees in radius near disk centre (about 610 MSH) with three umbral cores 0.3 degrees in radius.
SPOT, CORES = (10.0, 0.0), [(10.0, -1.2), (10.0, 0.0), (10.0, 1.2)]


def cored_image():
    """A dated disk whose spot is penumbra (0.8 of the quiet Sun) around three umbral cores (0.3): three spots."""
    image = disk_image(NO_TILT)
    contrast = np.where(spots_at(*CORES, radius_deg=0.3), 0.3, np.where(spots_at(SPOT, radius_deg=2.0), 0.8, 1.0))
    image.data = (contrast * image.data).astype(np.float32)
    return image


@pytest.mark.parametrize("change, area_ratio, matches", [
    ("none", 1.0, True),
    ("area 8 % larger", 1.08, True), ("area 12 % larger", 1.12, False),
    ("0.5 degrees west", 1.0, True), ("1.5 degrees west", 1.0, False),
    ("one core left out: 2 spots of 3", 0.98, True), ("two cores left out: 1 spot of 3", 0.96, False)])
def test_a_catalog_row_matches_when_place_area_and_spot_count_agree(change, area_ratio, matches):
    image, truth = cored_image(), spots_at(SPOT, radius_deg=2.0)
    lat, lon = SPOT
    west = float(change.split()[0]) if change.endswith("west") else 0.0
    guess = spots_at((lat, lon + west), radius_deg=2.0 * np.sqrt(area_ratio if "larger" in change else 1.0))
    left_out = {"one": 1, "two": 2}.get(change.split()[0], 0)
    if left_out:  # holes where the missed cores are: the spot count drops, the area barely
        guess = guess & ~spots_at(*CORES[:left_out], radius_deg=0.3)
    hits = region_hits(image, truth, guess)
    true, predicted = hits[hits["side"] == "true"].iloc[0], hits[hits["side"] == "predicted"].iloc[0]
    assert predicted["area_msh"] / true["area_msh"] == pytest.approx(area_ratio, abs=0.015)  # the change made
    assert predicted["match"] == true["match"] == matches


def test_the_catalog_figure_counts_measurable_regions_per_condition():
    image = disk_image(NO_TILT)
    good, too_large, small, at_limb = (10, 0), (-20, 30), (20, -40), (0, 75)
    truth = spots_at(good, too_large, at_limb, radius_deg=2.0) | spots_at(small, radius_deg=0.4)
    # All but the first measured 20 % too large; the small one (24 MSH) and the one at mu 0.26 are not counted.
    guess = spots_at(good, radius_deg=2.0) | spots_at(too_large, at_limb, radius_deg=2.2) | spots_at(small, radius_deg=0.44)
    hits = region_hits(image, truth, guess).assign(observation="a")
    assert hits["match"].sum() == 2  # the good one, on each side
    table = full_disk.region_figures(hits, {"a": ["clean"]})
    clean = table[table["bin"] == "clean"].iloc[0]
    assert (clean["measurable_listed"], clean["listed_matched"]) == (2, 1)
    assert clean["catalog_match"] == 0.5 and clean["true_catalog_match"] == 0.5
    metrics = full_disk.region_metrics(hits, {"a": ["clean"]})
    assert metrics["test_region_catalog_match_condition_clean"] == 0.5 == metrics["test_region_catalog_match"]
    assert "test_region_catalog_match_size_msh_10-30" not in metrics  # no measurable region that small


def test_an_undated_image_has_no_catalog_match():
    image, mask = disk_image(), spots_at((10, 0), radius_deg=2.0)
    hits = region_hits(image, mask, mask)
    assert not hits["match"].any() and hits["hit"].all()  # the same mask, but no place on the sphere to compare
