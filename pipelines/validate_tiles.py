"""Stage validate_tiles: check the tile shards and index with great-expectations before training."""

from sunspotter import paths
from sunspotter.checks.tiles import check_tiles
from sunspotter.config import load_params
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import conclude_validation, fresh_data_docs, stage_main


@stage_main
def main() -> None:
    params = load_params()
    with tracking.stage_run("validate_tiles"):
        outcome, rules, _ = check_tiles(paths.TILES, params.validate.min_positive_fraction,
                                        params.validate.max_positive_fraction, fresh_data_docs("tiles"))
        conclude_validation(outcome, rules, "tiles", paths.TILES)


if __name__ == "__main__":
    main()
