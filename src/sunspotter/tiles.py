"""Tiling full-disk pairs into shards, date-based splits, and the tf.data reader that streams them."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sunspotter import pspt
from sunspotter.config import SPLITS

INDEX_NAME = "index.parquet"
SHARD_SUFFIX = ".tfrecord"
#: How the tile pixel values were scaled; recorded in the index and in the dataset metadata.
NORMALISATION = "disk_centre"


@dataclass(frozen=True)
class Pair:
    observation: pspt.Observation
    image: Path
    mask: Path


def find_pairs(raw_dir: Path, image_filter: str) -> list[Pair]:
    """Image/mask pairs of one filter in ``raw_dir``, sorted by observation.

    validate_raw has already rejected unpaired or misnamed files, so here a missing mask is an error.
    """
    raw_dir = Path(raw_dir)
    pairs = []
    for image in sorted(raw_dir.glob(f"*.HW.{image_filter}.P.rdc.fits*")):
        obs, _ = pspt.parse_file_name(image.name)
        mask = raw_dir / obs.file_name("M")
        if not mask.exists():
            raise pspt.PSPTFileError(f"{image}: no mask {mask.name} beside it (every image needs its mask)")
        pairs.append(Pair(obs, image, mask))
    if not pairs:
        raise pspt.PSPTFileError(f"{raw_dir}: no {image_filter} images found")
    return pairs


def split_by_date(dates: list[str], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """Assign each observation date to one split; every split gets at least one date."""
    unique = sorted(set(dates))
    if len(unique) < len(SPLITS):
        raise ValueError(f"need at least {len(SPLITS)} observation dates to split, got {len(unique)}")
    order = np.random.default_rng(seed).permutation(len(unique))
    n_val = max(1, int(round(fractions["val"] * len(unique))))
    n_test = max(1, int(round(fractions["test"] * len(unique))))
    n_val = min(n_val, len(unique) - n_test - 1)
    assignment = {}
    for rank, i in enumerate(order):
        split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        assignment[unique[i]] = split
    return assignment


def normalise(image: np.ndarray, header) -> np.ndarray:
    """Scale counts so the sky is 0 and the quiet disk centre is 1 (dark offsets and exposure removed)."""
    image = image.astype(np.float32)
    cx, cy, radius = (float(header[k]) for k in ("CENTER_X", "CENTER_Y", pspt.RADIUS_KEY))
    y, x = np.ogrid[: image.shape[0], : image.shape[1]]
    r = np.hypot(x - cx, y - cy)
    sky = float(np.median(image[r > radius * 1.02])) if (r > radius * 1.02).any() else 0.0
    centre = float(np.median(image[r < radius * 0.2]))
    return (image - sky) / max(centre - sky, 1e-6)


def tile_pair(image: np.ndarray, codes: np.ndarray, tile_size: int, min_disk_fraction: float) -> Iterator[dict]:
    """Yield the kept tiles of one pair: pixels, binary sunspot mask and per-tile metadata."""
    if image.shape != codes.shape:
        raise ValueError(f"image shape {image.shape} differs from mask shape {codes.shape}")
    if image.shape[0] % tile_size or image.shape[1] % tile_size:
        raise ValueError(f"image shape {image.shape} is not a multiple of the tile size {tile_size}")
    binary = pspt.sunspot_mask(codes)
    for row in range(image.shape[0] // tile_size):
        for col in range(image.shape[1] // tile_size):
            window = np.s_[row * tile_size:(row + 1) * tile_size, col * tile_size:(col + 1) * tile_size]
            disk_fraction = float(np.count_nonzero(codes[window])) / tile_size**2
            if disk_fraction <= min_disk_fraction:
                continue
            mask = binary[window]
            spot_pixels = int(mask.sum())
            yield {"row": row, "col": col, "disk_fraction": disk_fraction, "sunspot_pixels": spot_pixels,
                   "label": int(spot_pixels > 0), "image": image[window], "mask": mask}


def _example(tile_id: str, image: np.ndarray, mask: np.ndarray, label: int):
    import tensorflow as tf

    feature = {
        "tile_id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[tile_id.encode()])),
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[np.ascontiguousarray(image, np.float32).tobytes()])),
        "mask": tf.train.Feature(bytes_list=tf.train.BytesList(value=[np.ascontiguousarray(mask, np.uint8).tobytes()])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
    }
    # Features are a protobuf map: without deterministic=True its order, and so the bytes and DVC hash, vary by process.
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString(deterministic=True)


def shard_name(split: str, shard: int, n_shards: int) -> str:
    return f"{split}-{shard:05d}-of-{n_shards:05d}{SHARD_SUFFIX}"


def write_tiles(pairs: list[Pair], out_dir: Path, *, tile_size: int, min_disk_fraction: float,
                split_fractions: dict[str, float], shards_per_split: int, seed: int,
                image_filter: str, progress: bool = True) -> pd.DataFrame:
    """Tile every pair into per-split shards plus one Parquet index; the folder appears whole or not at all."""
    import tensorflow as tf
    from tqdm import tqdm

    out_dir = Path(out_dir)
    assignment = split_by_date([p.observation.date for p in pairs], split_fractions, seed)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}."))
    rows = []
    writers = {}
    try:
        per_split_seen = {split: 0 for split in SPLITS}
        for pair in tqdm(pairs, desc="tiling", unit="obs", disable=not progress):
            split = assignment[pair.observation.date]
            # Whole observations go to one shard, round-robin, so shards stay balanced.
            shard = per_split_seen[split] % shards_per_split
            per_split_seen[split] += 1
            name = shard_name(split, shard, shards_per_split)
            if name not in writers:
                writers[name] = [tf.io.TFRecordWriter(str(staging / name)), 0]
            image, header = pspt.read_fits(pair.image)
            codes, _ = pspt.read_fits(pair.mask)
            scaled = normalise(image, header)
            cx, cy, radius = (float(header[k]) for k in ("CENTER_X", "CENTER_Y", pspt.RADIUS_KEY))
            for tile in tile_pair(scaled, codes, tile_size, min_disk_fraction):
                tile_id = f"{pair.observation.key}.{image_filter}.r{tile['row']:03d}c{tile['col']:03d}"
                writer = writers[name]
                writer[0].write(_example(tile_id, tile["image"], tile["mask"], tile["label"]))
                tile_x = (tile["col"] + 0.5) * tile_size - cx
                tile_y = (tile["row"] + 0.5) * tile_size - cy
                rows.append({
                    "tile_id": tile_id, "observation": pair.observation.key, "date": pair.observation.iso_date,
                    "filter": image_filter, "row": tile["row"], "col": tile["col"],
                    "disk_fraction": tile["disk_fraction"],
                    "mu": float(np.sqrt(max(0.0, 1 - (tile_x**2 + tile_y**2) / radius**2))),
                    "disk_radius": radius, "sunspot_pixels": tile["sunspot_pixels"], "label": tile["label"],
                    "split": split, "shard": name, "offset": writer[1], "normalisation": NORMALISATION,
                })
                writer[1] += 1
        for writer, _ in writers.values():
            writer.close()
        index = pd.DataFrame(rows)
        index.to_parquet(staging / INDEX_NAME, index=False)
        (staging / "meta.json").write_text(json.dumps(
            {"tile_size": tile_size, "image_filter": image_filter, "normalisation": NORMALISATION,
             "splits": {s: sorted({d for d, a in assignment.items() if a == s}) for s in SPLITS}}, indent=1))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
        return index
    except BaseException:
        for writer, _ in writers.values():
            writer.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_index(tiles_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(Path(tiles_dir) / INDEX_NAME)


def read_meta(tiles_dir: Path) -> dict:
    return json.loads((Path(tiles_dir) / "meta.json").read_text())


def shard_paths(tiles_dir: Path, split: str) -> list[Path]:
    paths = sorted(Path(tiles_dir).glob(f"{split}-*{SHARD_SUFFIX}"))
    if not paths:
        raise FileNotFoundError(f"{tiles_dir}: no shards for split '{split}'")
    return paths


def parse_tile(record, tile_size: int):
    """Decode one TFRecord into (tile_id, image[H, W, 1] float32, mask[H, W, 1] float32, label float32)."""
    import tensorflow as tf

    spec = {
        "tile_id": tf.io.FixedLenFeature([], tf.string),
        "image": tf.io.FixedLenFeature([], tf.string),
        "mask": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64),
    }
    parsed = tf.io.parse_single_example(record, spec)
    image = tf.reshape(tf.io.decode_raw(parsed["image"], tf.float32), [tile_size, tile_size, 1])
    mask = tf.cast(tf.reshape(tf.io.decode_raw(parsed["mask"], tf.uint8), [tile_size, tile_size, 1]), tf.float32)
    return parsed["tile_id"], image, mask, tf.cast(parsed["label"], tf.float32)


# Named functions, not lambdas: AutoGraph cannot convert look-alike lambdas defined on one line.
def _image_label(tile_id, image, mask, label):
    return image, label


def _image_mask(tile_id, image, mask, label):
    return image, mask


def _id_image_label(tile_id, image, mask, label):
    return tile_id, image, label


def _id_image_mask(tile_id, image, mask, label):
    return tile_id, image, mask


_TARGETS = {"classifier": _image_label, "localizer": _image_mask}
_TARGETS_WITH_IDS = {"classifier": _id_image_label, "localizer": _id_image_mask}


def _is_sunspot(tile_id, image, mask, label):
    return label > 0.5


def _is_clear(tile_id, image, mask, label):
    return label < 0.5


def _tile_stream(tiles_dir: Path, split: str, shuffle: bool, seed: int):
    """Parsed (id, image, mask, label) of a split: shards interleaved, tiles shuffled in a bounded buffer."""
    import tensorflow as tf

    tile_size = read_meta(tiles_dir)["tile_size"]
    files = [str(p) for p in shard_paths(tiles_dir, split)]
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=len(files), num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
    if shuffle:
        ds = ds.shuffle(4096, seed=seed, reshuffle_each_iteration=True)
    return ds.map(lambda r: parse_tile(r, tile_size), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def make_dataset(tiles_dir: Path, split: str, target: str, batch_size: int, *,
                 shuffle: bool = False, seed: int = 0, with_ids: bool = False, positive_fraction: float | None = None):
    """Stream a split from its shards: (image, label) for the classifier, (image, mask) for the localizer.

    Memory stays flat however big the split. With ``positive_fraction`` (for training), sunspot tiles are
    drawn to that share of the stream, which then repeats forever: pass ``steps_per_epoch`` to ``fit``.
    Sunspot tiles are a few percent of the disk; without this both models learn to answer "never".
    """
    import tensorflow as tf

    if positive_fraction is None:
        ds = _tile_stream(tiles_dir, split, shuffle, seed)
    else:
        positives = _tile_stream(tiles_dir, split, True, seed).filter(_is_sunspot).repeat()
        negatives = _tile_stream(tiles_dir, split, True, seed + 1).filter(_is_clear).repeat()
        ds = tf.data.Dataset.sample_from_datasets([positives, negatives], [positive_fraction, 1 - positive_fraction],
                                                  seed=seed)
    ds = ds.map(_TARGETS_WITH_IDS[target] if with_ids else _TARGETS[target])
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
