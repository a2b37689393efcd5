"""Stage evaluate: test-split metrics of both models, into metrics/evaluate.json and MLflow."""

import json

import keras
import mlflow

from sunspotter import paths, tracking
from sunspotter.config import MODEL_KINDS, load_params
from sunspotter.evaluation import EVALUATORS
from sunspotter.stage import stage_main, write_json


@stage_main
def main() -> None:
    params = load_params()
    results = {}
    with tracking.stage_run("evaluate"):
        mlflow.log_param("evaluate.threshold", params.evaluate.threshold)
        for kind in MODEL_KINDS:
            model = keras.saving.load_model(paths.model_file(kind), compile=False)
            results[kind] = EVALUATORS[kind](model, paths.TILES, params.evaluate.threshold)
            mlflow.log_metrics({f"{kind}_{name}": value for name, value in results[kind].items()})
            # The training run gets the same test_* names, so the UI compares models by them directly.
            training_run = json.loads(paths.model_record(kind).read_text())["run_id"]
            tracking.log_metrics_to(training_run, results[kind])
    write_json(paths.METRICS / "evaluate.json", results)


if __name__ == "__main__":
    main()
