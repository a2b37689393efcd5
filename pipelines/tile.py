"""Stage tile: cut every full-disk pair into tiles, split by date, write shards and the Parquet index."""

import mlflow

from sunspotter import paths, tiles, tracking
from sunspotter.config import load_params
from sunspotter.stage import stage_main


@stage_main
def main() -> None:
    params = load_params()
    tile = params.tile
    with tracking.stage_run("tile"):
        mlflow.log_params({"base.tile_size": params.base.tile_size, "base.seed": params.base.seed,
                           "tile.image_filter": tile.image_filter, "tile.min_disk_fraction": tile.min_disk_fraction,
                           "tile.shards_per_split": tile.shards_per_split}
                          | {f"tile.split.{k}": v for k, v in tile.split.items()})
        index = tiles.write_tiles(tiles.find_pairs(paths.RAW, tile.image_filter), paths.TILES,
                                  tile_size=params.base.tile_size, min_disk_fraction=tile.min_disk_fraction,
                                  split_fractions=tile.split, shards_per_split=tile.shards_per_split,
                                  seed=params.base.seed, image_filter=tile.image_filter)
        counts = index.groupby("split")["label"].agg(["count", "sum"])
        mlflow.log_metrics({f"{split}_{name}": int(counts.loc[split, column])
                            for split in counts.index for name, column in (("tiles", "count"), ("positive_tiles", "sum"))})


if __name__ == "__main__":
    main()
