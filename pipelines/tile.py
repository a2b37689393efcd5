"""Stage tile: cut every full-disk pair into tiles, split by date, write shards and the Parquet index."""

import json

import mlflow

from sunspotter import paths
from sunspotter.config import as_run_params, load_params
from sunspotter.dataset import tiles
from sunspotter.lifecycle import tracking
from sunspotter.lifecycle.stage import stage_main


def quarantined_observations() -> frozenset[str]:
    """Observations validate_raw set aside (validate.on_bad_file: quarantine)."""
    summary = json.loads(paths.validation_summary("raw").read_text())
    return frozenset(summary.get("quarantined", {}).get("observations", []))


@stage_main
def main() -> None:
    params = load_params()
    tile = params.tile
    with tracking.stage_run("tile"):
        mlflow.log_params(as_run_params("base", params.base, only=("tile_size", "seed")) | as_run_params("tile", tile))
        spec = tiles.TileSpec(params.base.tile_size, tile.stride, tile.min_disk_fraction, tuple(tile.channels),
                              tile.normalisation)
        with tiles.dask_client(tile.dask_scheduler, tile.dask_workers) as client:
            pairs = tiles.find_pairs(paths.RAW, tile.channels, quarantined_observations())
            index = tiles.write_tiles(pairs, paths.TILES, spec,
                                      split=tile.split, shards_per_split=tile.shards_per_split,
                                      seed=params.base.seed, client=client)
        counts = index.groupby("split")["label"].agg(["count", "sum"])
        mlflow.log_metrics({f"{split}_{name}": int(counts.loc[split, column])
                            for split in counts.index for name, column in (("tiles", "count"), ("positive_tiles", "sum"))})


if __name__ == "__main__":
    main()
