"""Instrument profiles: the test dates as other instruments record the Sun, on disk and read back.

Each profile has a folder of frames (image in the profile's format, mask as PSPT codes) and ``frames.csv``
listing them with their date and observing conditions, which is what evaluation reads.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import partial
from pathlib import Path

import pandas as pd

from sunspotter import paths
from sunspotter.config import Params, Profile
from sunspotter.io import atomic, pspt


def observation_indices(start_date: str, keys: list[str]) -> list[int]:
    """Day numbers of ``keys`` (``YYYYMMDD.HHMM``) from ``start_date``: the synthetic archive's observation index."""
    start = dt.date.fromisoformat(start_date)
    return [(dt.datetime.strptime(key, "%Y%m%d.%H%M").date() - start).days for key in keys]


def _record_and_write(archive, profiles: dict[str, Profile], out_dir: Path, index: int) -> list[dict]:
    from sunspotter.acquire.synth import instruments

    rows = []
    for name, profile in profiles.items():
        recorded = instruments.record(archive, index, profile)
        image, mask = instruments.write(recorded, profile, name, out_dir / name)
        rows.append({"profile": name, "observation": recorded.observation.key,
                     "date": recorded.observation.iso_date, "image": image.name, "mask": mask.name,
                     "conditions": ";".join(pspt.frame_conditions(recorded.header))})
    return rows


def write_profiles(params: Params, test_keys: list[str], out_dir: Path, progress: bool = True,
                   workers: int = 0) -> pd.DataFrame:
    """Render every test observation in every profile of ``params`` (the synthetic Sun of acquire's settings,
    whatever the archive's source) into ``out_dir/<profile>/``; return all manifests together."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    from sunspotter.acquire.synth.archive import Archive, SynthConfig

    acquire = params.acquire
    config = SynthConfig(seed=params.base.seed, image_size=params.base.image_size, start_date=acquire.start_date,
                         n_days=acquire.n_days, filters=("R",), settings=acquire.synthetic)
    indices = observation_indices(acquire.start_date, sorted(test_keys))
    workers = max(1, min(workers or os.cpu_count() or 1, len(indices)))
    bar = partial(tqdm, total=len(indices), desc="instrument profiles", unit="obs", disable=not progress)
    with atomic.replacing(out_dir, folder=True) as staging:
        for name in params.profiles:
            (staging / name).mkdir(parents=True)
        job = partial(_record_and_write, Archive.create(config), params.profiles, staging)
        with ProcessPoolExecutor(workers) as pool:
            rows = [row for frame_rows in bar(pool.map(job, indices)) for row in frame_rows]
        manifest = pd.DataFrame(rows, columns=["profile", "observation", "date", "image", "mask", "conditions"])
        for name, frames in manifest.groupby("profile"):
            table = frames.drop(columns="profile").to_csv(index=False).encode()
            atomic.write_bytes(staging / name / paths.PROFILE_MANIFEST, table)
    return manifest

