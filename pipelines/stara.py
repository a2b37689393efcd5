"""Stage stara: STARA (sunkit-image) scored like the localizer and the contrast cut, its threshold chosen on val.

Its own MLflow run, named baseline-stara, carries the same test_dice / test_iou names (and per observing
condition) as the localizer's training run and the contrast cut's, so the UI compares all three.
"""

import mlflow

from sunspotter import paths, stara, tracking
from sunspotter.baseline import score_detector
from sunspotter.config import load_params
from sunspotter.evaluation import PixelOverlap, dice_by_condition
from sunspotter.solar_image import read_solar_image
from sunspotter.stage import stage_main, write_json


def _scored(threshold: float, downsample: int, split: str):
    return score_detector(lambda path: stara.detect(read_solar_image(path), threshold, downsample),
                          paths.RAW, paths.TILES, name=f"STARA at {threshold:g} on {split}", split=split)


@stage_main
def main() -> None:
    settings = load_params().evaluate
    with tracking.stage_run("baseline", "stara"):
        mlflow.log_params({"evaluate.stara_thresholds": settings.stara_thresholds,
                           "evaluate.stara_downsample": settings.stara_downsample})
        val_dice = {threshold: PixelOverlap.pooled(_scored(threshold, settings.stara_downsample, "val")[0].values()).dice()
                    for threshold in settings.stara_thresholds}
        for step, (threshold, dice) in enumerate(sorted(val_dice.items())):
            mlflow.log_metric("val_dice_by_threshold", dice, step=step)
        threshold = max(val_dice, key=val_dice.get)  # the first of equals, in the params' order
        overlaps, conditions = _scored(threshold, settings.stara_downsample, "test")
        metrics = (PixelOverlap.pooled(overlaps.values()).metrics() | dice_by_condition(overlaps, conditions)
                   | {"val_dice": float(val_dice[threshold]), "test_threshold": float(threshold)})
        mlflow.log_metrics(metrics)
    write_json(paths.METRICS / "stara.json", metrics)


if __name__ == "__main__":
    main()
