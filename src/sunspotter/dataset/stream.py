"""The tf.data stream the models train and are scored on: tiles read back from the shards, the rare kinds
(sunspot tiles, hard negatives) drawn to their shares, augmentation applied, batched."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sunspotter.dataset.augment import Augmentation, augmented
from sunspotter.dataset.tiles import parse_tile, read_index, read_meta, shard_paths
from sunspotter.solar.classical import CONTRAST_CUT


def _image_label(tile_id, image, mask, label):
    return image, label


def _image_mask(tile_id, image, mask, label):
    return image, mask


def _id_image_label(tile_id, image, mask, label):
    return tile_id, image, label


def _id_image_mask(tile_id, image, mask, label):
    return tile_id, image, mask


#: What a model learns from a tile record (``ModelKind.target``): the tile's label or its pixel mask.
_TARGETS = {"label": _image_label, "mask": _image_mask}
_TARGETS_WITH_IDS = {"label": _id_image_label, "mask": _id_image_mask}


#: A spot-free tile wholly on the disk whose darkest pixel is below this (quiet Sun = 1) is a hard negative:
#: the classical detector's cut, so hard negatives are the tiles it gets wrong.
HARD_NEGATIVE_CUT = CONTRAST_CUT


def training_kinds(index: pd.DataFrame, split: str) -> dict[str, list[str]]:
    """Tile ids of a split by kind: ``sunspot``; ``hard_negative``, spot-free but wholly on the disk with a pixel
    as dark as penumbra (a dust speck or cloud shadow, what a threshold calls a spot); and ``clear``, the rest.

    Limb tiles are never hard negatives: the disk's edge darkens a few pixels of nearly every one of them, and
    they would swamp the few that matter.
    """
    rows = index[index["split"] == split]
    spot = rows["label"] == 1
    hard = ~spot & (rows["disk_fraction"] >= 1.0) & (rows["darkest"] < HARD_NEGATIVE_CUT)
    return {kind: rows.loc[chosen, "tile_id"].tolist()
            for kind, chosen in (("sunspot", spot), ("hard_negative", hard), ("clear", ~spot & ~hard))}


#: A training stream of one kind of tile is cached in memory up to this size (pixels and masks).
CACHE_BYTES = 1 << 30


def _only(tile_ids: list[str]):
    """A filter on serialized records keeping those ``tile_ids``: only the id is parsed, so skipping is cheap."""
    import tensorflow as tf

    table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
        tf.constant(tile_ids, tf.string), tf.ones(len(tile_ids), tf.int32)), default_value=0)
    id_only = {"tile_id": tf.io.FixedLenFeature([], tf.string)}

    def keep(record):
        return table.lookup(tf.io.parse_single_example(record, id_only)["tile_id"]) > 0

    return keep


def _tile_stream(tiles_dir: Path, split: str, shuffle: bool, seed: int, tile_ids: list[str] | None = None):
    """Parsed (id, image, mask, label) of a split, or of its ``tile_ids`` only: shards interleaved, tiles
    shuffled in a bounded buffer."""
    import tensorflow as tf

    meta = read_meta(tiles_dir)
    files = [str(p) for p in shard_paths(tiles_dir, split)]
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=len(files), num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
    channels = len(meta.channels)
    if tile_ids is not None:
        ds = ds.filter(_only(tile_ids))
        # A rare kind (sunspot tiles, hard negatives) is drawn several times an epoch: re-reading the whole split
        # to find it again cost more than training on it. Kept in memory when it is small enough.
        if len(tile_ids) * meta.tile_size ** 2 * (4 * channels + 1) <= CACHE_BYTES:
            ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(4096, seed=seed, reshuffle_each_iteration=True)
    return ds.map(lambda r: parse_tile(r, meta.tile_size, channels), num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=True)


def make_dataset(tiles_dir: Path, split: str, target: str, batch_size: int, *,
                 shuffle: bool = False, seed: int = 0, with_ids: bool = False, positive_fraction: float | None = None,
                 hard_negative_fraction: float = 0.0, augmentation: Augmentation | None = None):
    """Stream a split from its shards: (image, label) for the classifier, (image, mask) for the localizer.

    Memory stays bounded however big the split. With ``positive_fraction`` (for training), sunspot tiles are
    drawn to that share of the stream, which then repeats forever: pass ``steps_per_epoch`` to ``fit``.
    Sunspot tiles are a few percent of the disk; without this both models learn to answer "never".
    ``hard_negative_fraction`` of the stream is drawn from the hard negatives (see ``training_kinds``): a few
    percent of the negatives, and the ones a threshold gets wrong. A kind the split lacks is left out.
    With ``augmentation``, tiles are flipped, turned by quarter turns and changed as it says (see
    ``sunspotter.dataset.augment``).
    """
    import tensorflow as tf

    if augmentation and with_ids:
        raise ValueError("augmentation is for training streams, which carry no tile ids")

    if positive_fraction is None:
        ds = _tile_stream(tiles_dir, split, shuffle, seed)
    else:
        ids = training_kinds(read_index(tiles_dir), split)
        if not hard_negative_fraction:
            ids["clear"] += ids.pop("hard_negative")
        shares = {"sunspot": positive_fraction, "hard_negative": hard_negative_fraction,
                  "clear": 1 - positive_fraction - hard_negative_fraction}
        kinds = [kind for kind in ids if ids[kind]]
        streams = [_tile_stream(tiles_dir, split, True, seed + i, ids[kind]).repeat() for i, kind in enumerate(kinds)]
        ds = tf.data.Dataset.sample_from_datasets(streams, [shares[kind] for kind in kinds], seed=seed)
    ds = ds.map(_TARGETS_WITH_IDS[target] if with_ids else _TARGETS[target])
    if augmentation:
        ds = augmented(ds, seed, augmentation, spatial_target=target == "mask")
    # No autotuning thread: it waits out a timed sleep that grows to a minute, and deleting the iterator waits
    # for it. Keras deletes a validation iterator each epoch: half the localizer's epochs sat 20 s idle on 2
    # cores. The tuned knobs are parallel calls and buffer sizes, never the order, and the stream outruns
    # training without them (its batches are the same either way).
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE).with_options(options)
