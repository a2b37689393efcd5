"""Checks on the tile dataset: ids, shapes, mask values, labels that agree with masks, clean splits."""

from __future__ import annotations

from pathlib import Path

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from sunspotter.checks.suite import Outcome, Rule, validate
from sunspotter.dataset import tiles
from sunspotter.io import pspt

SUITE = "tiles"


def describe_tiles(tiles_dir: Path, progress: bool = True) -> pd.DataFrame:
    """The tile index joined with facts read back from the shards (streamed, one tile at a time)."""
    import tensorflow as tf
    from tqdm import tqdm

    index = tiles.read_index(tiles_dir)
    meta = tiles.read_meta(tiles_dir)
    tile_size, stride = meta.tile_size, meta.stride
    facts = []
    bar = tqdm(total=len(index), desc="validate_tiles: reading", unit="tile", disable=not progress)
    for shard in sorted(index["shard"].unique()):
        for offset, record in enumerate(tf.data.TFRecordDataset(str(Path(tiles_dir) / shard))):
            bar.update()
            tile_id, image, mask, label = (t.numpy() for t in tiles.parse_tile(record, tile_size, len(meta.channels)))
            facts.append({"tile_id": tile_id.decode(), "shard_read": shard, "offset_read": offset,
                          "image_nonfinite": int(np.count_nonzero(~np.isfinite(image))),
                          "mask_invalid": int(np.count_nonzero(~np.isin(mask, (0, 1, pspt.UNLABELLED)))),
                          "stored_label": int(label), "mask_spot_pixels": int(np.count_nonzero(mask == 1))})
    bar.close()
    read_back = pd.DataFrame(facts)
    table = index.merge(read_back, on="tile_id", how="outer", indicator=True)
    table["in_index_and_shards"] = table.pop("_merge") == "both"
    table["location_matches"] = (table["shard"] == table["shard_read"]) & (table["offset"] == table["offset_read"])
    table["label_matches_mask"] = (table["label"] == (table["mask_spot_pixels"] > 0)) & (table["stored_label"] == table["label"])
    table["sunspot_pixels_match"] = table["sunspot_pixels"] == table["mask_spot_pixels"]
    splits_per_date = index.groupby("date")["split"].nunique()
    table["date_in_one_split"] = table["date"].map(splits_per_date).fillna(0) == 1
    # A tile count per observation far from the disk's area in tiles means tiling went wrong.
    counts = index.groupby("observation")["tile_id"].count()
    expected = np.pi * index.groupby("observation")["disk_radius"].first() ** 2 / stride**2
    table["tile_count_ratio"] = table["observation"].map(counts / expected).astype(float)
    table["tile_id"] = table["tile_id"].astype(str)
    return table


def tile_rules(tile_count_bounds: tuple[float, float]) -> list[Rule]:
    low, high = tile_count_bounds
    return [
        Rule("tile ids are unique", gxe.ExpectColumnValuesToBeUnique(column="tile_id")),
        Rule("every indexed tile is in a shard and every shard tile is indexed",
             gxe.ExpectColumnValuesToBeInSet(column="in_index_and_shards", value_set=[True])),
        Rule("index shard/offset point at the tile", gxe.ExpectColumnValuesToBeInSet(column="location_matches", value_set=[True])),
        Rule("tile pixels are finite", gxe.ExpectColumnValuesToBeBetween(column="image_nonfinite", min_value=0, max_value=0)),
        Rule("tile masks hold 0, 1 or 2 (unlabelled limb)",
             gxe.ExpectColumnValuesToBeBetween(column="mask_invalid", min_value=0, max_value=0)),
        Rule("label == any sunspot pixel in the mask", gxe.ExpectColumnValuesToBeInSet(column="label_matches_mask", value_set=[True])),
        Rule("indexed sunspot pixel count equals the mask's", gxe.ExpectColumnValuesToBeInSet(column="sunspot_pixels_match", value_set=[True])),
        Rule("split is train, val or test", gxe.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "val", "test"])),
        Rule("no observation date is in two splits", gxe.ExpectColumnValuesToBeInSet(column="date_in_one_split", value_set=[True])),
        Rule("disk fraction is in (0, 1]", gxe.ExpectColumnValuesToBeBetween(column="disk_fraction", min_value=0, max_value=1, strict_min=True)),
        Rule(f"tiles per observation are {low}-{high} x the disk area in tiles",
             gxe.ExpectColumnValuesToBeBetween(column="tile_count_ratio", min_value=low, max_value=high)),
    ]


def balance_rule(min_positive: float, max_positive: float) -> Rule:
    """Class balance of the training split: the mean label over its tiles."""
    return Rule(f"training tiles with a sunspot are {min_positive:.0%}-{max_positive:.0%} of all",
                gxe.ExpectColumnMeanToBeBetween(column="label", min_value=min_positive, max_value=max_positive,
                                                row_condition='split=="train"', condition_parser="pandas"))


def check_tiles(tiles_dir: Path, min_positive: float, max_positive: float,
                docs_dir: Path | None = None) -> tuple[Outcome, int, pd.DataFrame]:
    """Per-tile rules plus the training split's class balance (Data Docs into ``docs_dir``)."""
    table = describe_tiles(tiles_dir)
    rules = tile_rules((0.8, 1.6)) + [balance_rule(min_positive, max_positive)]
    return validate(SUITE, table, rules, id_column="tile_id", docs_dir=docs_dir), len(rules), table
