"""Stage evaluate: test-split metrics of both models at the thresholds chosen on val, against the classical baseline.

Writes metrics/evaluate.json and the PR curves (DVC plots); logs the metrics and test figures to the
evaluate run and to each model's training run, so the UI compares models by test_* directly. The
localizer is also run over every whole test image (full-disk Dice, region count, total area:
metrics/images_localizer.csv and its true-versus-predicted area plot; region recall and precision by size,
mu and observing condition, and how many catalog rows match the true mask's (``catalog_match``, the catalog's
acceptance figure, docs/catalog.md): metrics/regions_localizer.csv); a handful of test images, one per observing
condition, drawn with their true and predicted outlines (reports/evaluate/overlays, DVC image plots). Test
metrics also go on each model's MLflow LoggedModel.
"""

import json
from dataclasses import asdict

import keras
import mlflow

from sunspotter import paths
from sunspotter.config import load_params
from sunspotter.dataset import tiles
from sunspotter.dataset.frames import conditions_of, frames_of, split_pairs
from sunspotter.evaluation.disk_overlays import write_test_overlays
from sunspotter.evaluation.full_disk import area_figure, image_metrics, region_figures, region_metrics, score_images
from sunspotter.evaluation.overlap import dice_by_condition
from sunspotter.evaluation.tile_scores import score_split, split_metrics
from sunspotter.fulldisk.trained import trained_full_disk_model
from sunspotter.io import atomic
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.model_record import ModelRecord
from sunspotter.lifecycle.run_figures import log_figures
from sunspotter.lifecycle.stage import stage_main
from sunspotter.models.kinds import KINDS, LOCALIZER


@stage_main
def main() -> None:
    results = {}
    channels = tiles.read_meta(paths.TILES).channels
    test_pairs = split_pairs(paths.RAW, paths.TILES, channel=channels[0])
    conditions = conditions_of(test_pairs)
    baseline = json.loads((paths.METRICS / "baseline.json").read_text())
    with tracking.stage_run("evaluate"):
        for name, kind in KINDS.items():
            record = ModelRecord.read(name)
            model = keras.saving.load_model(paths.model_file(name), compile=False)
            scores = score_split(model, kind, paths.TILES, "test", record.threshold)
            metrics = split_metrics(kind, scores, record.threshold) | {"test_threshold": record.threshold}
            if not kind.per_tile:
                metrics |= dice_by_condition(scores.per_observation, conditions)
                metrics |= {f"{name}_over_baseline": metrics[name] - baseline[name]
                            for name in ("test_dice", "test_dice_hard") if name in metrics and name in baseline}
                metrics |= _whole_images(record, test_pairs, conditions, several_filters=len(channels) > 1)
            results[name] = metrics
            curve = scores.histogram.pr_curve()
            atomic.write_bytes(paths.METRICS / f"pr_{name}.csv", curve.to_csv(index=False).encode())
            mlflow.log_metrics({f"{name}_{metric}": value for metric, value in metrics.items()})
            tracking.log_metrics_to(record.run_id, metrics, record.model_uri)
            log_figures(kind, "test", scores, record.threshold, run_id=record.run_id)
    write_json(paths.METRICS / "evaluate.json", results)


def _whole_images(record: ModelRecord, test_pairs: dict, conditions: dict, several_filters: bool) -> dict:
    """Per-image figures of the full-disk localizer; none for one trained on several filters (a whole
    image is one filter), whose plot file is left empty."""
    table_path = paths.METRICS / f"images_{LOCALIZER.name}.csv"
    if several_filters:
        paths.TEST_OVERLAYS.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(table_path, b"observation,true_area_msh,predicted_area_msh\n")
        atomic.write_bytes(paths.METRICS / f"regions_{LOCALIZER.name}.csv",
                           b"dimension,bin,true_regions,found,predicted_regions,on_a_spot,recall,precision,"
                           b"catalog_match,true_catalog_match\n")
        return {}
    full_disk = trained_full_disk_model(paths.model_file(LOCALIZER.name), record.threshold, paths.TILES,
                                        paths.DUST_MAP, **asdict(load_params().full_disk))
    images, regions = score_images({LOCALIZER.name: full_disk.segment}, frames_of(test_pairs),
                                   desc="full-disk test images")[LOCALIZER.name]
    atomic.write_bytes(table_path, images.to_csv(index=False).encode())
    atomic.write_bytes(paths.METRICS / f"regions_{LOCALIZER.name}.csv",
                       region_figures(regions, conditions).to_csv(index=False).encode())
    figure = area_figure(images)
    mlflow.log_figure(figure, "figures/test_area.png")
    tracking.client().log_figure(record.run_id, figure, "figures/test_area.png")
    write_test_overlays(full_disk.segment, frames_of(test_pairs), conditions, paths.TEST_OVERLAYS)
    mlflow.log_artifacts(str(paths.TEST_OVERLAYS), "figures/test_overlays")
    return image_metrics(images, conditions) | region_metrics(regions, conditions)


if __name__ == "__main__":
    main()
