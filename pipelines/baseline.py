"""Stage baseline: the classical detector (limb-darkening removal + contrast cut) scored like the localizer,
on the test tiles and on the whole test images.

Its own MLflow run, named baseline-classical, carries the same test_dice / test_iou names as the
localizer's training run, so the UI compares them side by side.
"""

import mlflow

from sunspotter import paths
from sunspotter.config import as_run_params, load_params
from sunspotter.evaluation.baseline import evaluate_baseline
from sunspotter.io.atomic import write_json
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main


@stage_main
def main() -> None:
    params = load_params()
    cut = params.evaluate.baseline_contrast_cut
    with tracking.stage_run("baseline", "classical"):
        mlflow.log_params(as_run_params("evaluate", params.evaluate, only=("baseline_contrast_cut",)))
        metrics = evaluate_baseline(paths.RAW, paths.TILES, cut, whole_images=True).metrics()
        mlflow.log_metrics(metrics)
    write_json(paths.METRICS / "baseline.json", metrics)


if __name__ == "__main__":
    main()
