"""Stage acquire: write the raw PSPT archive (image/mask pairs) to data/raw."""

import mlflow

from sunspotter import paths, tracking
from sunspotter.config import load_params
from sunspotter.stage import stage_main
from sunspotter.synth.archive import SynthConfig, write_archive


@stage_main
def main() -> None:
    params = load_params()
    acquire = params.acquire
    config = SynthConfig(seed=params.base.seed, image_size=params.base.image_size, start_date=acquire.start_date,
                         n_observations=acquire.n_observations, observation_time=acquire.observation_time,
                         groups_per_image=acquire.groups_per_image, spot_free_fraction=acquire.spot_free_fraction)
    with tracking.stage_run("acquire"):
        mlflow.log_params({f"acquire.{k}": v for k, v in vars(acquire).items()} | {"base.image_size": config.image_size})
        files = write_archive(config, paths.RAW)
        mlflow.log_metric("raw_files", len(files))


if __name__ == "__main__":
    main()
