"""Stage validate_raw: check every raw image/mask pair with great-expectations before anything uses it."""

import mlflow

from sunspotter import paths, tracking
from sunspotter.checks.raw import check_raw
from sunspotter.checks.suite import ValidationFailed, write_summary
from sunspotter.config import load_params
from sunspotter.stage import stage_main


@stage_main
def main() -> None:
    params = load_params()
    with tracking.stage_run("validate_raw"):
        outcome, rules = check_raw(paths.RAW, params.tile.image_filter, params.base.image_size)
        write_summary(outcome, paths.validation_summary("raw"), rules)
        mlflow.log_metrics({"raw_rows_checked": outcome.rows, "raw_failed_rules": len(outcome.failures)})
    if not outcome.success:
        raise ValidationFailed(f"{paths.RAW}: {outcome.message()}")


if __name__ == "__main__":
    main()
