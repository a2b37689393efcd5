"""Stage validate_tiles: check the tile shards and index with great-expectations before training."""

import mlflow

from sunspotter import paths, tracking
from sunspotter.checks.suite import ValidationFailed, write_summary
from sunspotter.checks.tiles import check_tiles
from sunspotter.config import load_params
from sunspotter.stage import stage_main


@stage_main
def main() -> None:
    params = load_params()
    with tracking.stage_run("validate_tiles"):
        outcome, rules, _ = check_tiles(paths.TILES, params.validate.min_positive_fraction,
                                        params.validate.max_positive_fraction)
        write_summary(outcome, paths.validation_summary("tiles"), rules)
        mlflow.log_metrics({"tiles_rows_checked": outcome.rows, "tiles_failed_rules": len(outcome.failures)})
    if not outcome.success:
        raise ValidationFailed(f"{paths.TILES}: {outcome.message()}")


if __name__ == "__main__":
    main()
