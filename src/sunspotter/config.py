"""Typed access to ``params.yaml``: loaded and checked once, so a typo fails early and clearly."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

MODEL_KINDS = ("classifier", "localizer")
SPLITS = ("train", "val", "test")


class ConfigError(ValueError):
    """params.yaml is missing a key, has an unknown one, or holds a value that cannot work."""


@dataclass(frozen=True)
class Base:
    seed: int
    image_size: int
    tile_size: int


@dataclass(frozen=True)
class Acquire:
    source: str
    start_date: str
    n_observations: int
    observation_time: str
    groups_per_image: float
    spot_free_fraction: float


@dataclass(frozen=True)
class Tile:
    image_filter: str
    min_disk_fraction: float
    shards_per_split: int
    split: dict[str, float]


@dataclass(frozen=True)
class Validate:
    max_positive_fraction: float
    min_positive_fraction: float


@dataclass(frozen=True)
class TrainModel:
    epochs: int
    batch_size: int
    learning_rate: float
    filters: list[int]
    positive_fraction: float


@dataclass(frozen=True)
class Evaluate:
    threshold: float


@dataclass(frozen=True)
class Register:
    classifier: str
    localizer: str


@dataclass(frozen=True)
class Params:
    base: Base
    acquire: Acquire
    tile: Tile
    validate: Validate
    train: dict[str, TrainModel]
    evaluate: Evaluate
    register: Register


def _build(cls, section: str, values: Any):
    if not isinstance(values, dict):
        raise ConfigError(f"params.yaml: section '{section}' must be a mapping")
    names = {f.name for f in fields(cls)}
    missing, unknown = names - values.keys(), values.keys() - names
    if missing or unknown:
        raise ConfigError(f"params.yaml: section '{section}': missing {sorted(missing)}, unknown {sorted(unknown)}")
    return cls(**values)


def _check(params: Params) -> None:
    base, tile = params.base, params.tile
    rules = [
        (base.tile_size > 0 and base.image_size % base.tile_size == 0,
         f"base.image_size ({base.image_size}) must be a multiple of base.tile_size ({base.tile_size})"),
        (base.tile_size % 8 == 0, "base.tile_size must be a multiple of 8 (the localizer pools three times)"),
        (params.acquire.source == "synthetic", "acquire.source must be 'synthetic' (the LASP client is not built yet)"),
        (params.acquire.n_observations >= 3, "acquire.n_observations must be >= 3 (one per split at least)"),
        (set(tile.split) == {"train", "val", "test"} and abs(sum(tile.split.values()) - 1) < 1e-6,
         "tile.split must give train, val and test fractions that sum to 1"),
        (0 <= tile.min_disk_fraction < 1, "tile.min_disk_fraction must be in [0, 1)"),
        (tile.shards_per_split >= 1, "tile.shards_per_split must be >= 1"),
        (tile.image_filter in ("R",), "tile.image_filter must be 'R' for now"),
        *((0 < model.positive_fraction < 1, f"train.{kind}.positive_fraction must be in (0, 1)")
          for kind, model in params.train.items()),
    ]
    for ok, message in rules:
        if not ok:
            raise ConfigError(f"params.yaml: {message}")


def load_params(path: str | os.PathLike = "params.yaml") -> Params:
    """Load and validate the whole params file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"{path}: cannot read params ({err})") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections")
    train = raw.get("train", {})
    if set(train) != set(MODEL_KINDS):
        raise ConfigError(f"params.yaml: section 'train' must have exactly {list(MODEL_KINDS)}")
    params = Params(
        base=_build(Base, "base", raw.get("base")),
        acquire=_build(Acquire, "acquire", raw.get("acquire")),
        tile=_build(Tile, "tile", raw.get("tile")),
        validate=_build(Validate, "validate", raw.get("validate")),
        train={kind: _build(TrainModel, f"train.{kind}", train[kind]) for kind in MODEL_KINDS},
        evaluate=_build(Evaluate, "evaluate", raw.get("evaluate")),
        register=_build(Register, "register", raw.get("register")),
    )
    _check(params)
    return params
