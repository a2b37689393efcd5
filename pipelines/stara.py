"""Stage stara: STARA (sunkit-image) scored like the localizer and the contrast cut (test tiles and whole test
images), its threshold chosen on val.

Its own MLflow run, named baseline-stara, carries the same test_dice / test_iou names (and per observing
condition) as the localizer's training run and the contrast cut's, so the UI compares all three.
"""

import mlflow

from sunspotter import paths
from sunspotter.config import as_run_params, load_params
from sunspotter.evaluation.baseline import DetectorScores, score_detectors
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main
from sunspotter.solar import stara


def _scored(thresholds: list[float], arcsec_per_px: float, split: str) -> list[DetectorScores]:
    """STARA at each threshold on ``split`` (one top-hat a frame for them all)."""
    return score_detectors(lambda image: stara.detect_each(image, thresholds, arcsec_per_px), len(thresholds),
                           paths.RAW, paths.TILES, name=f"STARA at {', '.join(f'{t:g}' for t in thresholds)} on {split}",
                           split=split, whole_images=split == "test")


@stage_main
def main() -> None:
    settings = load_params().evaluate
    with tracking.stage_run("baseline", "stara"):
        mlflow.log_params(as_run_params("evaluate", settings, only=("stara_thresholds", "stara_arcsec_per_px")))
        thresholds = list(settings.stara_thresholds)
        val_dice = {threshold: scores.metrics()["test_dice"]
                    for threshold, scores in zip(thresholds, _scored(thresholds, settings.stara_arcsec_per_px, "val"))}
        for step, (threshold, dice) in enumerate(sorted(val_dice.items())):
            mlflow.log_metric("val_dice_by_threshold", dice, step=step)
        threshold = max(val_dice, key=val_dice.get)  # the first of equals, in the params' order
        metrics = (_scored([threshold], settings.stara_arcsec_per_px, "test")[0].metrics()
                   | {"val_dice": float(val_dice[threshold]), "test_threshold": float(threshold)})
        mlflow.log_metrics(metrics)
    write_json(paths.METRICS / "stara.json", metrics)


if __name__ == "__main__":
    main()
