"""Shared fixtures: a tiny synthetic archive, made once per session (256 x 256 images)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sunspotter.synth.archive import SynthConfig, write_archive

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
REPO = Path(__file__).resolve().parents[1]

TINY = SynthConfig(seed=7, image_size=256, start_date="2014-01-02", n_observations=6, observation_time="1800",
                   groups_per_image=8.0, spot_free_fraction=0.0)


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory) -> Path:
    """Six 256 x 256 observations with many spots; treat as read-only (copy it to break it)."""
    out = tmp_path_factory.mktemp("raw")
    write_archive(TINY, out, progress=False)
    return out
