"""Tiling full-disk pairs into shards, date-based splits, the Parquet index and the shard record format.

The tf.data stream that reads the shards for training is ``dataset.stream``."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from sunspotter.config import SPLITS, Split
from sunspotter.io import atomic, pspt
from sunspotter.solar.classical import normalise
from sunspotter.solar.disk import SolarDisk

INDEX_NAME = "index.parquet"
SHARD_SUFFIX = ".tfrecord"
#: How tile pixels are scaled: sky 0 and the disk centre 1, or each pixel over the quiet Sun at its mu
#: (limb darkening removed). Recorded in the index and the dataset metadata.
NORMALISATIONS = ("disk_centre", "quiet_sun")


@dataclass(frozen=True)
class TileSpec:
    """How tiles are cut from a full-disk observation."""

    tile_size: int
    stride: int                  # pixels between tile origins; less than tile_size overlaps tiles
    min_disk_fraction: float     # keep a tile when more than this fraction of it is on the disk
    channels: tuple[str, ...]    # PSPT filters stacked as channels, e.g. ("R",) or ("R", "K")
    normalisation: str


@dataclass(frozen=True)
class Pair:
    """One observation's images (one per channel) and its mask."""

    observation: pspt.Observation
    images: tuple[Path, ...]
    mask: Path


def find_pairs(raw_dir: Path, channels: tuple[str, ...] | list[str], exclude: frozenset[str] = frozenset()) -> list[Pair]:
    """Every observation in ``raw_dir`` with an image per channel and a mask, sorted by observation,
    except the observation keys in ``exclude`` (those validate_raw quarantined). Files pair whatever their
    suffix (``pspt.SUFFIXES``); an observation's file in one filter under two suffixes is an error.

    validate_raw has already rejected unpaired or misnamed files, so here a missing file is an error.
    """
    raw_dir = Path(raw_dir)
    pairs = []
    for first, obs in pspt.observation_files(raw_dir, channels[0]):
        if obs.key in exclude:
            continue
        found = {letter: pspt.find_file(raw_dir, obs, letter) for letter in (*channels, "M")}  # refuses twins
        missing = [obs.file_name(letter) for letter, path in found.items() if path is None]
        if missing:
            raise pspt.PSPTFileError(f"{first}: {', '.join(missing)} missing beside it (or .fits, .fits.fz; "
                                     f"every observation needs its mask and an image per channel)")
        pairs.append(Pair(obs, tuple(found[letter] for letter in channels), found["M"]))
    if not pairs:
        raise pspt.PSPTFileError(f"{raw_dir}: no {channels[0]} images found")
    return pairs


#: Arrangements of val and test blocks drawn before the best one is kept.
ARRANGEMENTS_TRIED = 2000


def split_by_date(dates: list[str], split: Split, seed: int,
                  strata: dict[str, str] | None = None) -> dict[str, str]:
    """Assign observation dates to train, val and test, val and test in blocks of consecutive dates.

    Consecutive days show the same spots, carried about 13 degrees a day across the disk, so a test date
    beside a train date leaks its answer. Val and test come as runs of ``split.block_days`` observation
    dates, at least ``split.gap_days`` calendar days apart, and the train dates within ``gap_days`` of a
    val or test date go to no split (they are left out of the mapping). Where the blocks lie is drawn with
    ``seed``: of the arrangements tried, the one that tests and trains on the most conditions of
    ``strata`` seen on two or more dates, then tests the most of them on two dates or more, then holds
    them nearest the archive's proportions, then validates on the most, then keeps the most train dates
    wins (the first drawn of equals).
    """
    unique = sorted(set(dates))
    days = np.array([_day_number(date) for date in unique])
    n = len(unique)
    block = max(1, min(split.block_days, n // 3))
    n_blocks = {"test": max(1, round(split.test * n / block)), "val": max(1, round(split.val * n / block))}
    while sum(n_blocks.values()) * block >= n:  # a short archive: train keeps some dates
        n_blocks[max(n_blocks, key=n_blocks.get)] -= 1
    conditions = np.array([(strata or {}).get(date, "") for date in unique])
    values, counts = np.unique(conditions, return_counts=True)
    wanted = set(values[counts >= 2])
    rng = np.random.default_rng(seed)
    best, best_score = None, None
    for _ in range(ARRANGEMENTS_TRIED):
        labels = _draw_blocks(rng, days, block, n_blocks, split.gap_days)
        if labels is None:
            continue
        seen = {name: set(conditions[labels == name]) for name in SPLITS}
        if not all(seen.values()):
            continue
        # Two test frames of a condition at least, where there are enough (one frame is an anecdote), and
        # otherwise conditions in the archive's proportions, so the overall test figures mean the archive's.
        in_test = {c: int(np.sum((labels == "test") & (conditions == c))) for c in values}
        tested_twice = sum(min(in_test[c], 2) for c in wanted)
        n_test = sum(in_test.values())
        mismatch = sum(abs(in_test[c] - n_test * k / n) for c, k in zip(values, counts))
        score = (len(wanted & seen["test"] & seen["train"]), tested_twice, -round(mismatch, 6),
                 len(wanted & seen["val"]), int(np.sum(labels == "train")))
        if best_score is None or score > best_score:
            best, best_score = labels, score
    if best is None:
        raise ValueError(f"{n} observation dates: no arrangement of {sum(n_blocks.values())} val and test blocks of "
                         f"{block} dates, {split.gap_days} days apart, leaves a date to train on: lower "
                         f"tile.split.gap_days or block_days")
    return {date: str(label) for date, label in zip(unique, best) if label != GAP}


GAP = "gap"


def _day_number(date: str) -> int:
    """Days since 1970 of a ``YYYYMMDD`` or ``YYYY-MM-DD`` date."""
    iso = date if "-" in date else f"{date[:4]}-{date[4:6]}-{date[6:8]}"
    return int(np.datetime64(iso, "D").astype(np.int64))


def _draw_blocks(rng, days: np.ndarray, block: int, n_blocks: dict[str, int], gap_days: int) -> np.ndarray | None:
    """Labels of one random arrangement: blocks at random starts, train elsewhere, gap beside the blocks;
    None when two blocks came closer than ``gap_days`` days."""
    n = len(days)
    labels = np.full(n, "train", dtype=object)
    placed: list[tuple[int, int]] = []  # first and last day of each block
    for name, count in n_blocks.items():
        for _ in range(count):
            start = int(rng.integers(0, n - block + 1))
            first, last = days[start], days[start + block - 1]
            if any(first - gap_days <= other_last and other_first <= last + gap_days
                   for other_first, other_last in placed):
                return None
            placed.append((first, last))
            labels[start:start + block] = name
    held = days[labels != "train"]
    nearest = np.minimum(np.abs(days - held[np.clip(np.searchsorted(held, days), 0, len(held) - 1)]),
                         np.abs(days - held[np.clip(np.searchsorted(held, days) - 1, 0, len(held) - 1)]))
    labels[(labels == "train") & (nearest <= gap_days)] = GAP
    return labels


def tile_pair(image: np.ndarray, codes: np.ndarray, tile_size: int, min_disk_fraction: float,
              stride: int | None = None, mu: np.ndarray | None = None) -> Iterator[dict]:
    """Yield the kept tiles of one pair: pixels, sunspot mask and metadata (row, col = top-left pixel). The mask
    is binary, or with ``mu`` (per pixel) a training mask marking the limb band unlabelled (pspt.training_mask)."""
    stride = stride or tile_size
    if image.shape[:2] != codes.shape:
        raise ValueError(f"image shape {image.shape[:2]} differs from mask shape {codes.shape}")
    if (image.shape[0] - tile_size) % stride or (image.shape[1] - tile_size) % stride:
        raise ValueError(f"image shape {image.shape[:2]} is not a multiple of the tile size {tile_size} "
                         f"and stride {stride}: tiles would miss the image's edge")
    full_mask = pspt.sunspot_mask(codes) if mu is None else pspt.training_mask(codes, mu)
    for row in range(0, image.shape[0] - tile_size + 1, stride):
        for col in range(0, image.shape[1] - tile_size + 1, stride):
            window = np.s_[row:row + tile_size, col:col + tile_size]
            disk_fraction = float(np.count_nonzero(codes[window])) / tile_size**2
            if disk_fraction <= min_disk_fraction:
                continue
            mask = full_mask[window]
            spot_pixels = int(np.count_nonzero(mask == 1))
            first_channel = image[window] if image.ndim == 2 else image[window][..., 0]
            yield {"row": row, "col": col, "disk_fraction": disk_fraction, "sunspot_pixels": spot_pixels,
                   "label": int(spot_pixels > 0), "darkest": float(first_channel[codes[window] > 0].min()),
                   "image": image[window], "mask": mask}


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


def tile_observation(pair: Pair, spec: TileSpec, records_path: Path) -> list[dict]:
    """Read, normalise and cut one observation; write its tiles to ``records_path`` (a TFRecord file) and
    return their index rows. Runs on a Dask worker, which shares the filesystem as it does for the raw files."""
    import tensorflow as tf

    channels, header = [], None
    for path in pair.images:
        image, image_header = pspt.read_fits(path)
        channels.append(normalise(image, SolarDisk.from_header(image_header), spec.normalisation))
        header = header or image_header
    stack = np.stack(channels, axis=-1)
    codes, _ = pspt.read_fits(pair.mask)
    disk = SolarDisk.from_header(header)
    mu = disk.mu(codes.shape)
    rows = []
    with tf.io.TFRecordWriter(str(records_path)) as writer:
        for tile in tile_pair(stack, codes, spec.tile_size, spec.min_disk_fraction, spec.stride, mu):
            tile_id = f"{pair.observation.key}.{'+'.join(spec.channels)}.y{tile['row']:04d}x{tile['col']:04d}"
            writer.write(_example(tile_id, tile["image"], tile["mask"], tile["label"]))
            rows.append(_index_row(pair, spec, disk, tile, tile_id))
    return rows


def _index_row(pair: Pair, spec: TileSpec, disk: SolarDisk, tile: dict, tile_id: str) -> dict:
    return {
        "tile_id": tile_id, "observation": pair.observation.key, "date": pair.observation.iso_date,
        "filter": "+".join(spec.channels), "row": tile["row"], "col": tile["col"],
        "disk_fraction": tile["disk_fraction"],
        "mu": float(disk.mu_at(tile["col"] + spec.tile_size / 2, tile["row"] + spec.tile_size / 2)),
        "disk_radius": disk.radius, "sunspot_pixels": tile["sunspot_pixels"], "label": tile["label"],
        "darkest": tile["darkest"],
        "normalisation": spec.normalisation,
    }


def shard_name(split: str, shard: int, n_shards: int) -> str:
    return f"{split}-{shard:05d}-of-{n_shards:05d}{SHARD_SUFFIX}"


#: Dask sets MALLOC_TRIM_THRESHOLD_ in its workers, which stops glibc adapting its mmap threshold: every
#: 8-16 MB image array is then mapped and page-faulted afresh, and tiling ran 45 % slower than in one
#: process. Keeping arrays up to 32 MB (glibc's ceiling) on the heap restores the speed.
WORKER_MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": 65536, "MALLOC_MMAP_THRESHOLD_": 32 * 1024**2,
                     "OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}


@contextmanager
def dask_client(scheduler: str = "", workers: int = 0):
    """A Dask client: on ``scheduler`` (e.g. tcp://host:8786) if given, else on a local cluster bound to
    127.0.0.1 with ``workers`` single-threaded processes (0 = one per core)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # The stages log at INFO, where Dask reports its start and shutdown (and a shutdown race, with a traceback):
    # warnings only while the cluster lives. glibc reads MALLOC_* when a process starts: set before the workers
    # are spawned, not after.
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    dask_log.setLevel(logging.WARNING)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_MALLOC_ENV}), \
                LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None, silence_logs=logging.WARNING) as cluster, \
                Client(cluster) as client:
            yield client
    finally:
        dask_log.setLevel(level)


def _tiled_in_order(pairs: list[Pair], spec: TileSpec, parts: Path, client) -> Iterator[tuple[list[dict], Path]]:
    """Tile every pair into its own records file under ``parts``, on the Dask ``client`` when given,
    yielding (index rows, records file) in the order of ``pairs``.

    In order, so the shards come out byte-identical whatever finishes first; a bounded window of
    tasks ahead, so memory stays flat however long the archive.
    """
    def part(pair: Pair) -> Path:
        return parts / f"{pair.observation.key}{SHARD_SUFFIX}"

    if client is None:
        yield from ((tile_observation(pair, spec, part(pair)), part(pair)) for pair in pairs)
        return
    # Four tasks per worker: one slow observation at the head of the window leaves no worker idle.
    ahead = 4 * max(len(client.scheduler_info()["workers"]), 1)
    pending = iter(pairs)

    def submit(pair: Pair):
        return client.submit(tile_observation, pair, spec, part(pair), pure=False), part(pair)

    window = deque(submit(pair) for pair in islice(pending, ahead))
    while window:
        future, path = window.popleft()
        yield future.result(), path
        future.release()
        following = next(pending, None)
        if following is not None:
            window.append(submit(following))


def write_tiles(pairs: list[Pair], out_dir: Path, spec: TileSpec, *, split: Split,
                shards_per_split: int, seed: int, client=None, progress: bool = True) -> pd.DataFrame:
    """Tile every pair into per-split shards plus one Parquet index; the folder appears whole or not at all.

    Each observation is tiled on its own (on Dask workers when ``client`` is given) into a records
    file; those are appended, in observation order, to the shards (TFRecord files concatenate).
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    conditions = {p.observation.date: pspt.main_condition(pspt.frame_conditions(pspt.read_header(p.images[0])))
                  for p in pairs}
    assignment = split_by_date(list(conditions), split, seed, strata=conditions)
    # Dates in the gaps between splits are tiled by no split: they would leak spots across the border.
    pairs = [pair for pair in pairs if pair.observation.date in assignment]
    rows = []
    shards = {}  # name -> [open file, tiles written]
    try:
        with atomic.replacing(out_dir, folder=True) as staging:
            parts = staging / "parts"
            parts.mkdir(parents=True)
            per_split_seen = {split: 0 for split in SPLITS}
            results = _tiled_in_order(pairs, spec, parts, client)
            for pair, (tile_rows, records_path) in tqdm(zip(pairs, results), total=len(pairs), desc="tiling",
                                                        unit="obs", disable=not progress):
                name_of_split = assignment[pair.observation.date]
                # Whole observations go to one shard, round-robin, so shards stay balanced.
                name = shard_name(name_of_split, per_split_seen[name_of_split] % shards_per_split, shards_per_split)
                per_split_seen[name_of_split] += 1
                if name not in shards:
                    shards[name] = [open(staging / name, "wb"), 0]
                shard = shards[name]
                with open(records_path, "rb") as records:
                    shutil.copyfileobj(records, shard[0])
                records_path.unlink()
                for row in tile_rows:
                    rows.append(row | {"split": name_of_split, "shard": name, "offset": shard[1]})
                    shard[1] += 1
            for handle, _ in shards.values():
                handle.close()
            parts.rmdir()
            index = pd.DataFrame(rows)
            index.to_parquet(staging / INDEX_NAME, index=False)
            TileMeta(spec.tile_size, spec.stride, list(spec.channels), spec.normalisation,
                     splits={s: sorted({d for d, a in assignment.items() if a == s}) for s in SPLITS},
                     gap_dates=sorted(set(conditions) - set(assignment)), conditions=conditions).write(staging)
        return index
    finally:
        for handle, _ in shards.values():
            handle.close()


def read_index(tiles_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(Path(tiles_dir) / INDEX_NAME)


@dataclass(frozen=True)
class TileMeta:
    """What a tile folder's ``meta.json`` says about how its tiles were made and split."""

    tile_size: int
    stride: int
    channels: list[str]                   # filter letters, one per channel
    normalisation: str                    # as ``classical.normalise`` was asked
    splits: dict[str, list[str]]          # split -> its dates (YYYYMMDD)
    gap_dates: list[str]                  # dates tiled by no split, between blocks
    conditions: dict[str, str]            # date -> its main observing condition

    def write(self, tiles_dir: Path) -> None:
        atomic.write_json(Path(tiles_dir) / "meta.json", asdict(self))


def read_meta(tiles_dir: Path) -> TileMeta:
    path = Path(tiles_dir) / "meta.json"
    document = json.loads(path.read_text())
    document.setdefault("gap_dates", [])  # tiles made before val and test were kept apart by gaps
    try:
        return TileMeta(**document)
    except TypeError as err:  # a key missing or unknown: made by another version of the tile stage
        raise ValueError(f"{path}: not this version's tile metadata ({err}); rerun the tile stage "
                         "(dvc repro tile)") from err


def shard_paths(tiles_dir: Path, split: str) -> list[Path]:
    paths = sorted(Path(tiles_dir).glob(f"{split}-*{SHARD_SUFFIX}"))
    if not paths:
        raise FileNotFoundError(f"{tiles_dir}: no shards for split '{split}'")
    return paths


def parse_tile(record, tile_size: int, channels: int = 1):
    """Decode one TFRecord into (tile_id, image[H, W, C] float32, mask[H, W, 1] float32, label float32); mask
    values are 0, 1 and pspt.UNLABELLED."""
    import tensorflow as tf

    spec = {
        "tile_id": tf.io.FixedLenFeature([], tf.string),
        "image": tf.io.FixedLenFeature([], tf.string),
        "mask": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64),
    }
    parsed = tf.io.parse_single_example(record, spec)
    image = tf.reshape(tf.io.decode_raw(parsed["image"], tf.float32), [tile_size, tile_size, channels])
    mask = tf.cast(tf.reshape(tf.io.decode_raw(parsed["mask"], tf.uint8), [tile_size, tile_size, 1]), tf.float32)
    return parsed["tile_id"], image, mask, tf.cast(parsed["label"], tf.float32)


# Named functions, not lambdas: AutoGraph cannot convert look-alike lambdas defined on one line.
