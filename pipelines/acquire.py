"""Stage acquire: write the raw PSPT archive (image/mask pairs) to data/raw, synthetic or from LASP."""

import datetime as dt

import mlflow

from sunspotter import paths
from sunspotter.acquire.gallery import write_gallery
from sunspotter.config import Params, as_run_params, load_params
from sunspotter.io import pspt
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main


def synthesise(params: Params) -> int:
    from sunspotter.acquire.synth.archive import SynthConfig, write_archive

    acquire = params.acquire
    config = SynthConfig(seed=params.base.seed, image_size=params.base.image_size, start_date=acquire.start_date,
                         n_days=acquire.n_days, filters=tuple(acquire.filters), settings=acquire.synthetic)
    return len(write_archive(config, paths.RAW))


def download(params: Params) -> int:
    from sunspotter.acquire import lasp

    acquire, server = params.acquire, params.acquire.lasp
    settings = lasp.ArchiveSettings(base_url=server.base_url, max_request_bytes=int(server.max_request_mb * 1024**2),
                                    timeout_s=server.timeout_s, max_retries=server.max_retries)
    start = dt.date.fromisoformat(acquire.start_date)
    try:
        manifest = lasp.download(settings, start, start + dt.timedelta(days=acquire.n_days - 1), acquire.filters,
                                 paths.RAW)
    finally:
        # Retry counts differ from run to run: kept out of data/raw so its DVC hash depends on the files alone.
        log = paths.RAW / pspt.DOWNLOAD_LOG_NAME
        if log.exists():
            (paths.REPORTS / "acquire").mkdir(parents=True, exist_ok=True)
            log.replace(paths.REPORTS / "acquire" / pspt.DOWNLOAD_LOG_NAME)
    return len(manifest.files)


@stage_main
def main() -> None:
    params = load_params()
    acquire = params.acquire
    with tracking.stage_run("acquire"):
        unused_source = "lasp" if acquire.source == "synthetic" else "synthetic"
        mlflow.log_params(as_run_params("acquire", acquire, skip=(unused_source,))
                          | as_run_params("base", params.base, only=("image_size",)))
        files = synthesise(params) if acquire.source == "synthetic" else download(params)
        mlflow.log_metric("raw_files", files)
        mlflow.log_artifact(str(write_gallery(paths.RAW, paths.REPORTS / "acquire" / "gallery.png",
                                              params.tile.channels[0])))


if __name__ == "__main__":
    main()
