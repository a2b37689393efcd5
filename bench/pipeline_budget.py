"""Where the minutes of a `dvc repro` go: each stage's MLflow run, newest of each name, from start to end.

Run it after `dvc repro` (from scratch, for the budget): it prints each stage's wall time, its share of
the sum, and the sum against the budget of 20 minutes on the developers' 2-core machine. The time a stage
spends before its run starts (imports, DVC's own hashing between stages) is not in its run: the difference
to `time dvc repro` is that.

    .venv/bin/python bench/pipeline_budget.py [TRACKING_URI]
"""

from __future__ import annotations

import sys

from sunspotter.lifecycle import tracking

BUDGET_MINUTES = 20
STAGES = ("acquire", "validate_raw", "tile", "validate_tiles", "dust_map", "train-classifier", "train-localizer",
          "baseline-classical", "baseline-stara", "profiles", "evaluate", "evaluate_profiles", "register")


def main(uri: str | None) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri or tracking.tracking_uri())
    experiment = client.get_experiment_by_name(tracking.EXPERIMENT)
    if experiment is None:
        raise SystemExit(f"no experiment {tracking.EXPERIMENT} in {client.tracking_uri}: run `dvc repro` first")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"], max_results=500)
    newest = {}
    for run in runs:
        if run.info.run_name in STAGES and run.info.end_time and run.info.run_name not in newest:
            newest[run.info.run_name] = run
    seconds = {name: (run.info.end_time - run.info.start_time) / 1000 for name, run in newest.items()}
    total = sum(seconds.values())
    for name in STAGES:
        if name in seconds:
            print(f"{name:20s} {seconds[name] / 60:6.2f} min  {seconds[name] / total:6.1%}")
    first = min(run.info.start_time for run in newest.values())
    last = max(run.info.end_time for run in newest.values())
    print(f"{'sum of the stages':20s} {total / 60:6.2f} min; first start to last end {(last - first) / 60000:.2f} min "
          f"(budget {BUDGET_MINUTES} min)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
