"""Stage evaluate_profiles: the full-disk localizer, STARA and the contrast cut on each instrument profile's
frames (stage profiles), scored as on the test images.

Per profile and detector: region recall and precision by size, mu and condition, false regions per image,
exact counts, median total-area error and whole-disk Dice, in metrics/profiles.json (all) and
metrics/profile_regions.csv (the region table); the headline figures in its own MLflow run and, for the
localizer, in its training run.
"""

import json
from dataclasses import asdict

import mlflow
import pandas as pd

from sunspotter import paths
from sunspotter.config import load_params
from sunspotter.dataset import tiles
from sunspotter.dataset.frames import read_profile
from sunspotter.evaluation.full_disk import (
    image_metrics,
    large_region_metrics,
    mask_only,
    region_figures,
    region_metrics,
    score_images,
)
from sunspotter.fulldisk.trained import trained_full_disk_model
from sunspotter.io import atomic
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.model_record import ModelRecord
from sunspotter.lifecycle.stage import stage_main
from sunspotter.models.kinds import LOCALIZER
from sunspotter.solar import classical, stara

REGION_TABLE = paths.METRICS / "profile_regions.csv"
#: What goes to MLflow per profile and detector (the JSON has every bin): overall figures and region sizes.
HEADLINE = ("test_disk_dice", "test_count_exact_fraction", "test_area_relative_error_median", "test_region_recall",
            "test_region_precision", "test_region_recall_100_and_up", "test_false_regions_per_image_100_and_up")


def _detectors(params):
    """The three detectors by name, each at the settings chosen for it on val."""
    record = ModelRecord.read(LOCALIZER.name)
    localizer = trained_full_disk_model(paths.model_file(LOCALIZER.name), record.threshold, paths.TILES,
                                        paths.DUST_MAP, **asdict(params.full_disk))
    stara_threshold = json.loads((paths.METRICS / "stara.json").read_text())["test_threshold"]
    cut, stara_scale = params.evaluate.baseline_contrast_cut, params.evaluate.stara_arcsec_per_px
    return record.run_id, {
        LOCALIZER.name: localizer.segment,
        "stara": mask_only(lambda image: stara.detect(image, stara_threshold, stara_scale)),
        "contrast_cut": mask_only(lambda image: classical.detect(image.data, image.disk, cut)),
    }


@stage_main
def main() -> None:
    params = load_params()
    if len(tiles.read_meta(paths.TILES).channels) != 1:
        print("evaluate_profiles: the localizer was trained on several filters; a profile's frame is one: "
              "nothing scored")
        write_json(paths.METRICS / "profiles.json", {})
        atomic.write_bytes(REGION_TABLE, b"profile,detector,dimension,bin\n")
        return
    results, tables = {}, []
    with tracking.stage_run("evaluate_profiles"):
        run_id, detectors = _detectors(params)
        for name in params.profiles:
            frames, conditions = read_profile(paths.PROFILES / name)
            for detector, (images, regions) in score_images(detectors, frames, desc=f"profile {name}").items():
                results.setdefault(name, {})[detector] = (image_metrics(images, conditions)
                                                          | large_region_metrics(regions, len(images))
                                                          | region_metrics(regions, conditions))
                tables.append(region_figures(regions, conditions).assign(profile=name, detector=detector))
        headline = {f"{name}.{detector}.{metric}": value for name, by_detector in results.items()
                    for detector, figures in by_detector.items() for metric, value in figures.items()
                    if metric in HEADLINE or metric.startswith("test_region_recall_size_msh")}
        mlflow.log_metrics(headline)
        tracking.log_metrics_to(run_id, {key.replace(f".{LOCALIZER.name}.", "."): value
                                         for key, value in headline.items() if f".{LOCALIZER.name}." in key})
    write_json(paths.METRICS / "profiles.json", results)
    table = pd.concat(tables, ignore_index=True)
    first = ["profile", "detector"]
    table = table[first + [column for column in table.columns if column not in first]]
    atomic.write_bytes(REGION_TABLE, table.to_csv(index=False).encode())


if __name__ == "__main__":
    main()
