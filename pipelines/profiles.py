"""Stage profiles: the test dates as other instruments record the Sun (params `profiles`), in data/profiles.

One folder per profile with each test observation's frame in the profile's format, its mask (PSPT codes,
FITS) and frames.csv listing them with date and observing conditions (``sunspotter.acquire.profiles``). Always the
synthetic Sun of acquire's settings: even with a real archive, no other telescope can re-observe its days.
"""

import mlflow

from sunspotter import paths
from sunspotter.acquire.profiles import write_profiles
from sunspotter.config import as_run_params, load_params
from sunspotter.dataset import tiles
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main


@stage_main
def main() -> None:
    params = load_params()
    index = tiles.read_index(paths.TILES)
    test_keys = sorted(set(index.loc[index["split"] == "test", "observation"]))
    with tracking.stage_run("profiles"):
        mlflow.log_params({name: value for profile, settings in params.profiles.items()
                           for name, value in as_run_params(f"profiles.{profile}", settings).items()})
        manifest = write_profiles(params, test_keys, paths.PROFILES)
        mlflow.log_metrics({f"{name}_frames": len(frames) for name, frames in manifest.groupby("profile")})


if __name__ == "__main__":
    main()
