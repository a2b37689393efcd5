"""The README's figures table is made from the pipeline's outputs and kept in step with dvc.lock."""

import hashlib
import json

import pandas as pd
import pytest
import yaml

from sunspotter.dataset.tiles import TileMeta
from sunspotter.evaluation import figures
from tests.conftest import REPO


def test_readme_figures_come_from_the_committed_pipeline_outputs():
    """Fails when `dvc repro` has changed an output the table is made from and `sunspotter figures` was not run."""
    assert figures.recorded_hashes((REPO / "README.md").read_text()) == figures.lock_hashes(REPO)


def test_readme_figures_are_what_the_outputs_give():
    evaluation = REPO / "metrics" / "evaluate.json"
    lock = figures.lock_hashes(REPO)
    if not evaluation.exists() or hashlib.md5(evaluation.read_bytes()).hexdigest() != lock["metrics/evaluate.json"]:
        pytest.skip("the committed pipeline's outputs are not in this workspace (`dvc repro` or `dvc pull` first)")
    readme = (REPO / "README.md").read_text()
    assert figures._block(readme) == figures.render(REPO)


def _fake_outputs(root):
    """A repository's worth of pipeline outputs: three test dates, one counted wrong."""
    (root / "metrics").mkdir()
    (root / "data/tiles").mkdir(parents=True)
    classifier = {"test_accuracy": 0.99, "test_precision": 0.98, "test_recall": 0.95, "test_f1": 0.965,
                  "test_roc_auc": 0.995, "test_threshold": 0.6}
    localizer = {"test_dice": 0.93, "test_iou": 0.87, "test_threshold": 0.5, "test_dice_clean": 0.95,
                 "test_dice_dust": 0.9, "test_dice_cloud": 0.91, "test_dice_hard": 0.84,
                 "test_dice_hard_over_baseline": 0.5, "test_disk_dice": 0.97, "test_count_exact_fraction": 2 / 3,
                 "test_area_relative_error_median": 0.02, "test_count_false": 0, "test_count_split": 0,
                 "test_count_over_limit": 0, "test_count_missed": 1, "test_count_merged": 0, "test_count_under_limit": 0}
    (root / "metrics/evaluate.json").write_text(json.dumps({"classifier": classifier, "localizer": localizer}))
    (root / "metrics/baseline.json").write_text(json.dumps({"test_dice": 0.3, "test_dice_hard": 0.34}))
    (root / "metrics/stara.json").write_text(json.dumps({
        "test_dice": 0.6, "test_dice_hard": 0.45, "test_threshold": 0.08, "test_disk_dice": 0.81,
        "test_images": 3, "test_count_exact_fraction": 1 / 3, "test_area_relative_error_median": 0.125,
        "test_region_recall": 0.5, "test_region_precision": 0.25, "test_region_recall_condition_hard": 0.4}))
    for kind in ("classifier", "localizer"):
        (root / f"metrics/train_{kind}.json").write_text(json.dumps({"best_epoch": 4, "epochs_run": 9}))
    pd.DataFrame({"observation": ["a", "b", "c"], "date": ["2014-01-05", "2014-01-06", "2014-01-07"],
                  "count_error": [0, -1, 0]}).to_csv(root / "metrics/images_localizer.csv", index=False)
    pd.DataFrame({"dimension": ["size_msh", "size_msh", "mu", "condition"],
                  "bin": ["10-30", "300_and_up", "0.7-1", "clean"], "true_regions": [4, 2, 6, 6], "found": [3, 2, 5, 5],
                  "predicted_regions": [3, 2, 5, 0], "on_a_spot": [3, 1, 4, 0],
                  "area_error_median": [0.25, 0.04, 0.1, 0.1], "listed_matched": [2, 1, 3, 5],
                  "measurable_listed": [2, 2, 4, 6]}).to_csv(
        root / "metrics/regions_localizer.csv", index=False)
    profile = {"test_region_recall_100_and_up": 0.95, "test_false_regions_per_image_100_and_up": 1.5,
               "test_region_recall": 0.7, "test_region_precision": 0.6, "test_count_exact_fraction": 1 / 3,
               "test_images": 3, "test_area_relative_error_median": 0.3, "test_disk_dice": 0.75}
    (root / "metrics/profiles.json").write_text(json.dumps({"jpeg_quicklook": {
        "localizer": profile, "stara": profile | {"test_region_recall_100_and_up": 0.5}, "contrast_cut": profile}}))
    dates = [f"201401{d:02d}" for d in range(1, 13)]
    conditions = dict.fromkeys(dates, "clean") | {"20140106": "dust"}
    TileMeta(tile_size=128, stride=128, channels=["R"], normalisation="quiet_sun",
             splits={"train": dates[:2] + dates[9:], "val": dates[7:8], "test": dates[4:7]},
             gap_dates=["20140103", "20140104", "20140108"], conditions=conditions).write(root / "data/tiles")
    pd.DataFrame({"split": ["train", "train", "val", "test"], "label": [1, 0, 0, 1]}).to_parquet(
        root / "data/tiles/index.parquet")
    outs = [{"path": path, "md5": f"hash-of-{path}"} for path in figures.SOURCES]
    (root / "dvc.lock").write_text(yaml.safe_dump({"stages": {"all": {"outs": outs}}}))
    (root / "README.md").write_text(f"# Title\n\n{figures.BEGIN}\nstale\n{figures.END}\n\n## Next\n")


def test_the_table_says_each_figure_and_whether_its_floor_is_met(tmp_path):
    _fake_outputs(tmp_path)
    figures.write(tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# Title\n\n") and readme.endswith(f"{figures.END}\n\n## Next\n") and "stale" not in readme
    assert "3 whole images of 12 dates, in 1 blocks of consecutive dates; 1 val dates; 3 dates in the gaps" in readme
    assert "2 clean, 1 dust, 0 cloud, 0 bad seeing" in readme
    assert "**2 of 3** (floor >= 80 %: NOT met; off by 0, -1, 0)" in readme
    assert "| ... regions the counts gained and lost, by cause (src/sunspotter/evaluation/count_errors.py) | missed -1 |" \
        in readme
    assert "spot count within 1): clean / dust / cloud / bad seeing / hard | **5 of 6 (83 %)** / - / - / - / - |" \
        in readme  # conditions with no test image have no figure
    assert "**0.930 (floor >= 0.90: met)**" in readme  # the localizer's Dice
    assert "**0.840 (floor >= 0.85: NOT met)**" in readme  # ... on hard frames
    assert "**2.0 % (floor <= 5 %: met)**" in readme
    assert "classifier 9 (5); localizer 9 (5)" in readme
    assert "STARA (sunkit-image, val-chosen threshold 0.08) on the same test pixels" in readme
    assert "| 0.600; - / - / - / - / 0.450 |" in readme  # conditions the outputs lack show as -
    # STARA / the contrast cut, which lacks them here
    assert "| 0.810 / -; 1 of 3 / -; 12.5 % / -; 0.500 / -; 0.250 / - |" in readme
    assert "| +0.390; - |" in readme  # the localizer's hard-frame Dice 0.84 against 0.45; it has no region recall here
    assert "| 10-30: 3/4 (75 %) / 3/3 (100 %) / 25 %; 300_and_up: 2/2 (100 %) / 1/2 (50 %) / 4 % |" in readme
    assert "| clean: 5/6 (83 %) / 0/0 (-) / 10 % |" in readme
    # Per profile, the CNN against its floors (the JPEG's area floor is 35 %), the baselines beside it.
    assert ("| jpeg_quicklook | **CNN** | **95.0 %** (>= 90 %: met) | **1.50** (<= 1: NOT met) | 0.700 / 0.600 | "
            "1 of 3 | **30.0 %** (<= 35 %: met) | 0.750 |") in readme
    assert "| jpeg_quicklook | STARA | 50.0 % | 1.50 | 0.700 / 0.600 | 1 of 3 | 30.0 % | 0.750 |" in readme
    assert figures.recorded_hashes(readme) == {path: f"hash-of-{path}" for path in figures.SOURCES}


def test_a_readme_without_the_block_is_a_clear_error(tmp_path):
    _fake_outputs(tmp_path)
    (tmp_path / "README.md").write_text("# Title\n")
    with pytest.raises(ValueError, match="no figures block"):
        figures.write(tmp_path)
