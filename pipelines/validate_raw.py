"""Stage validate_raw: check every raw image/mask pair with great-expectations before anything uses it."""

from dataclasses import asdict

from sunspotter import paths
from sunspotter.checks.raw import check_raw, quarantine
from sunspotter.config import load_params
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import conclude_validation, fresh_data_docs, stage_main


@stage_main
def main() -> None:
    params = load_params()
    with tracking.stage_run("validate_raw"):
        outcome, rules, table = check_raw(paths.RAW, params.tile.channels, params.base.image_size,
                                           fresh_data_docs("raw"))
        set_aside = None
        if params.validate.on_bad_file == "quarantine" and not outcome.success:
            set_aside = asdict(quarantine(outcome, table))
        conclude_validation(outcome, rules, "raw", paths.RAW, set_aside)


if __name__ == "__main__":
    main()
