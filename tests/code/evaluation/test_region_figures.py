"""Region recall and precision: which true regions a catalog finds and which of its regions lie on real spots."""

from __future__ import annotations

import numpy as np
import pytest

from sunspotter.evaluation import full_disk
from sunspotter.solar import catalog
from tests.code.solar.test_catalog import disk_image, spots_at


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
