"""A small localizer trained here, the pipeline's way, for the behavioural tests to judge without `dvc repro`.

A short synthetic archive at half the PSPT scale (1024 px, 2 arcsec per pixel: a 50 MSH spot is about 10 px
across) is tiled, a small U-Net is trained on the tiles by the project's own fit loop (its threshold chosen
on val), and the detector's dust map is built from the train and val frames, as the pipeline's stages do.
Seeded throughout: the same archive and, up to CPU float reordering, the same model every run. About two
minutes on two cores.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from sunspotter.acquire.synth.archive import SynthConfig, write_archive
from sunspotter.config import Params, Split, Synthetic, load_params
from sunspotter.dataset import tiles
from sunspotter.dataset.frames import split_pairs
from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.fulldisk.trained import trained_full_disk_model
from sunspotter.solar import dust_map
from sunspotter.solar.solar_image import read_solar_image
from tests.conftest import REPO

#: Solar maximum (many spots on every frame), dust on every frame (the map needs min_frames dusty ones) and
#: clear skies: the behaviours under test are about spots and dust, not cloud or bad seeing.
ARCHIVE = SynthConfig(seed=11, image_size=1024, start_date="2014-01-02", n_days=10, filters=("R",),
                      settings=Synthetic(observation_time="1800", cycle_phase=1.0, dust_rate=1.0, cloud_rate=0.0,
                                         bad_seeing_rate=0.0))
#: 32-px tiles: a quarter of the pixels per batch of 64-px ones, so four times the steps in the same minute,
#: and still three times the width of the spots under test.
TILE = tiles.TileSpec(tile_size=32, stride=32, min_disk_fraction=0.0, channels=("R",), normalisation="quiet_sun")
#: One-date val and test blocks, no gaps: of ten dates, six are trained on.
SPLIT = Split(val=0.2, test=0.2, block_days=1, gap_days=0)


def small_params() -> Params:
    """params.yaml with the localizer cut to 300 steps of a three-level U-Net, run to the end (val Dice about
    0.55, pulled down by pores of a few pixels; spots of 25 MSH and more it finds); the training blur for bad
    seeing scaled to the half-size frames."""
    params = load_params(REPO / "params.yaml")
    localizer = replace(params.train["localizer"], epochs=6, steps_per_epoch=50, patience=6, batch_size=16,
                        learning_rate=0.003, filters=[8, 16, 32],
                        seeing_blur=params.train["localizer"].seeing_blur * ARCHIVE.image_size / 2048)
    return replace(params, train={**params.train, "localizer": localizer})


def train_small_localizer(workdir: Path) -> FullDiskModel:
    """Write the archive, tile it, train, build the dust map, all under ``workdir``; the full-disk model as
    evaluate builds it (the full_disk params' edge cuts, the default quarter-tile overlap for these small tiles)."""
    params = small_params()
    raw, tiles_dir, models, dust_path = workdir / "raw", workdir / "tiles", workdir / "models", workdir / "dust.fits.gz"
    write_archive(ARCHIVE, raw, progress=False)
    tiles.write_tiles(tiles.find_pairs(raw, ["R"]), tiles_dir, TILE, split=SPLIT, shards_per_split=1,
                      seed=params.base.seed, progress=False)
    threshold = _train(params, tiles_dir, models, workdir)
    frames = sorted(pair.images[0] for split in ("train", "val")
                    for pair in split_pairs(raw, tiles_dir, split, channel="R").values())
    settings = params.dust_map
    dust = dust_map.build((read_solar_image(path) for path in frames), settings.dark_contrast, settings.min_frames,
                          settings.min_fraction)
    dust_map.write(dust_path, dust)
    edges = asdict(params.full_disk) | {"overlap": None}
    return trained_full_disk_model(models / "localizer.keras", threshold, tiles_dir, dust_path, **edges)


def _train(params: Params, tiles_dir: Path, models: Path, workdir: Path) -> float:
    """training.train in a throwaway MLflow store (it logs into the active run); the threshold chosen on val."""
    import mlflow

    from sunspotter.lifecycle.training_run import train_and_log
    from sunspotter.models.kinds import LOCALIZER

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    try:
        experiment = mlflow.create_experiment("small-localizer", artifact_location=(workdir / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment):
            return train_and_log(LOCALIZER, params, tiles_dir, models, progress=False)["threshold"]
    finally:
        mlflow.set_tracking_uri(previous)
