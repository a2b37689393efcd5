"""Typed access to ``params.yaml``: loaded and checked once, so a typo fails early and clearly."""

from __future__ import annotations

import datetime as dt
import os
import typing
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

MODEL_KINDS = ("classifier", "localizer")
SOURCES = ("synthetic", "lasp")
SPLITS = ("train", "val", "test")


class ConfigError(ValueError):
    """params.yaml is missing a key, has an unknown one, or holds a value that cannot work."""


@dataclass(frozen=True)
class Base:
    seed: int
    image_size: int
    tile_size: int


@dataclass(frozen=True)
class Synthetic:
    observation_time: str   # HHMM, UT
    cycle_phase: float      # 0 = solar minimum, 1 = maximum: how many active regions
    dust_rate: float        # fraction of frames with dust specks on the optics
    cloud_rate: float       # ... with thin cloud
    bad_seeing_rate: float  # ... with bad seeing


@dataclass(frozen=True)
class Lasp:
    base_url: str
    max_request_mb: float
    timeout_s: float
    max_retries: int


@dataclass(frozen=True)
class Acquire:
    source: str             # "synthetic" or "lasp"
    start_date: str
    n_days: int
    filters: list[str]
    synthetic: Synthetic
    lasp: Lasp


@dataclass(frozen=True)
class Split:
    """Val and test as blocks of consecutive dates, kept apart from train by gaps (tiles.split_by_date)."""

    val: float              # share of the observation dates in val blocks
    test: float             # ... in test blocks; train gets the rest, less the gaps
    block_days: int         # observation dates per val or test block
    gap_days: int           # calendar days between a val or test date and any date of another split


@dataclass(frozen=True)
class Tile:
    channels: list[str]     # PSPT filters stacked as input channels
    normalisation: str      # disk_centre or quiet_sun
    stride: int
    dask_scheduler: str     # "" = a local cluster
    dask_workers: int       # local cluster workers; 0 = one per core
    min_disk_fraction: float
    shards_per_split: int
    split: Split


@dataclass(frozen=True)
class Validate:
    on_bad_file: str        # "fail" or "quarantine"
    max_positive_fraction: float
    min_positive_fraction: float


#: Val metrics each model can be chosen on, and whether higher is better.
MONITORS = {"classifier": {"val_loss": False, "val_auc": True, "val_accuracy": True},
            "localizer": {"val_loss": False, "val_dice": True}}


@dataclass(frozen=True)
class TrainModel:
    epochs: int             # at most; early stopping may end sooner
    steps_per_epoch: int    # batches between validations, whatever the archive's size
    patience: int           # epochs without a better monitored val metric before stopping (best weights restored)
    monitor: str            # the val metric early stopping watches and the best epoch is chosen on (MONITORS)
    batch_size: int
    learning_rate: float
    focal_gamma: float      # cross-entropy focusing: 0 = plain, 2 = focal (hard examples weigh more)
    small_spot_weight: float  # localizer: extra cross-entropy weight of pores and their rims; 0 = none
    filters: list[int]
    positive_fraction: float
    hard_negative_fraction: float  # share of training batches from spot-free tiles with penumbra-dark pixels
    augment: bool           # random flips, quarter turns and brightness changes of training tiles
    brightness: float       # brightness factor drawn from [1 - brightness, 1 + brightness]
    seeing_blur: float      # half the training tiles blurred by a Gaussian of sigma up to this (px); 0 = none
    quicklook_fraction: float  # share of training tiles recorded coarser (half as JPEG), resampled back; 0 = none
    quicklook_scale: float  # ... by a plate-scale factor up to this (>= 1)
    contrast_gamma: float   # contrasts raised to a power within 1 +- this; 0 = none


@dataclass(frozen=True)
class DustMapParams:
    dark_contrast: float    # a pixel this much darker than its surroundings on a frame is dark there
    min_frames: int         # dust: dark on at least this many frames ...
    min_fraction: float     # ... and this share of them


@dataclass(frozen=True)
class FullDisk:
    overlap: int      # pixels shared by neighbouring tiles over a whole image (their predictions are blended)
    edge_grow: float  # a pixel touching a called spot joins it if darker than this x its surroundings ...
    edge_trim: float  # ... and a called pixel stays only if darker than this x them (sunspotter.solar.edges)


@dataclass(frozen=True)
class Evaluate:
    baseline_contrast_cut: float  # the classical baseline calls pixels darker than this x quiet Sun sunspot
    stara_thresholds: list[float]  # STARA's top-hat thresholds (fractions of the disk-centre quiet Sun) tried on val
    stara_arcsec_per_px: float  # STARA runs on the image binned to about this plate scale (its top-hat is costly)


#: How a profile's frames are written: FITS with PSPT's header keys (the archive's own detector, dust and all),
#: FITS with a solar WCS (as HMI or GONG write it), or an 8-bit picture without metadata.
PROFILE_FORMATS = ("pspt_fits", "wcs_fits", "jpeg", "png")


@dataclass(frozen=True)
class Profile:
    """The test dates as another instrument records the Sun (``synth.instruments``)."""

    arcsec_per_px: float
    wavelength_nm: float  # continuum wavelength; a broadband camera's effective one
    format: str           # one of PROFILE_FORMATS
    photons: float        # photo-electrons per pixel at disk centre (Poisson noise); 0: PSPT's 0.1 % read noise


@dataclass(frozen=True)
class Register:
    classifier: str
    localizer: str
    gates: dict  # model kind -> {min_<metric> | max_<metric>: bound}: what a challenger must reach to be promoted


@dataclass(frozen=True)
class Params:
    base: Base
    acquire: Acquire
    tile: Tile
    validate: Validate
    train: dict[str, TrainModel]
    dust_map: DustMapParams
    full_disk: FullDisk
    evaluate: Evaluate
    profiles: dict[str, Profile]
    register: Register


def _build(cls, section: str, values: Any):
    if not isinstance(values, dict):
        raise ConfigError(f"params.yaml: section '{section}' must be a mapping")
    names = {f.name for f in fields(cls)}
    missing, unknown = names - values.keys(), values.keys() - names
    if missing or unknown:
        raise ConfigError(f"params.yaml: section '{section}': missing {sorted(missing)}, unknown {sorted(unknown)}")
    for name, expected in typing.get_type_hints(cls).items():
        if not _has_type(values[name], expected):
            raise ConfigError(f"params.yaml: {section}.{name} must be {_described(expected)}, "
                              f"found {_found(values[name])}")
    return cls(**values)


#: How a type is named in an error: for people who edit YAML, not Python (alone, and as a list's items).
_TYPE_WORDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false", list: "a list",
               dict: "a mapping"}
_ITEM_WORDS = {int: "whole numbers", float: "numbers", str: "text items"}


def _has_type(value: Any, expected) -> bool:
    """Whether ``value``, as YAML gave it, fits the field type ``expected`` (an int is a fine float; a bool is
    no number, though Python calls it an int)."""
    origin = typing.get_origin(expected) or expected
    if is_dataclass(origin):
        return isinstance(value, origin)
    if origin is float:
        return _number(value)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, origin):
        return False
    if origin is list and typing.get_args(expected):
        return all(_has_type(item, typing.get_args(expected)[0]) for item in value)
    return True


def _described(expected) -> str:
    origin = typing.get_origin(expected) or expected
    if origin is list and typing.get_args(expected):
        return f"a list of {_ITEM_WORDS[typing.get_args(expected)[0]]}"
    return _TYPE_WORDS.get(origin, "a mapping")


def _found(value: Any) -> str:
    """What YAML gave, with the fix when it is a quoted number, one YAML 1.1 reads as text (``1e-3``), or an
    unquoted date (which YAML reads as a date)."""
    if isinstance(value, dt.date):
        return f"date {value.isoformat()} (put it in quotes: YAML reads an unquoted date as a date)"
    kind = {bool: "true/false", int: "whole number", float: "number", str: "text", list: "list",
            dict: "mapping", type(None): "nothing"}.get(type(value), type(value).__name__)
    found = f"{kind} {value!r}" if value is not None else "nothing"
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return found
        hint = f"write {number!r}" if "e" in value.lower() else "write it without quotes"
        return f"{found} ({hint}: YAML reads {value} as text)"
    return found


def _build_acquire(values: Any) -> Acquire:
    if not isinstance(values, dict):
        raise ConfigError("params.yaml: section 'acquire' must be a mapping")
    nested = {"synthetic": Synthetic, "lasp": Lasp}
    built = {key: _build(cls, f"acquire.{key}", values.get(key)) for key, cls in nested.items()}
    return _build(Acquire, "acquire", {**values, **built})


def _has_credentials(url: str) -> bool:
    """A user or password in the URL, or a query parameter that looks like a secret."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    secret_words = ("token", "key", "password", "secret", "auth")
    return bool(parts.username or parts.password) or any(word in name.lower() for name in parse_qs(parts.query)
                                                          for word in secret_words)


def _build_tile(values: Any) -> Tile:
    if not isinstance(values, dict):
        raise ConfigError("params.yaml: section 'tile' must be a mapping")
    return _build(Tile, "tile", {**values, "split": _build(Split, "tile.split", values.get("split"))})


def _build_profiles(values: Any) -> dict[str, Profile]:
    if not isinstance(values, dict):
        raise ConfigError("params.yaml: section 'profiles' must be a mapping of profile names to settings")
    return {name: _build(Profile, f"profiles.{name}", settings) for name, settings in values.items()}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _profile_rules(name: str, profile: Profile) -> list[tuple[bool, str]]:
    where = f"profiles.{name}"
    return [
        (name.isidentifier(), f"{where}: a profile name is letters, digits and _ (it names files and metrics)"),
        (0.25 <= profile.arcsec_per_px <= 20, f"{where}.arcsec_per_px must be a number in [0.25, 20]"),
        (350 <= profile.wavelength_nm <= 1100, f"{where}.wavelength_nm must be a continuum wavelength in [350, 1100] nm"),
        (profile.format in PROFILE_FORMATS, f"{where}.format must be one of {list(PROFILE_FORMATS)}"),
        (profile.photons >= 0, f"{where}.photons must be a number >= 0"),
    ]


def _check(params: Params) -> None:
    base, tile = params.base, params.tile
    rules = [
        (base.tile_size > 0 and base.image_size % base.tile_size == 0,
         f"base.image_size ({base.image_size}) must be a multiple of base.tile_size ({base.tile_size})"),
        (base.tile_size % 8 == 0, "base.tile_size must be a multiple of 8 (the localizer pools three times)"),
        (params.acquire.source in SOURCES, f"acquire.source must be one of {list(SOURCES)}"),
        (params.acquire.n_days >= 3, "acquire.n_days must be >= 3 (one per split at least)"),
        (set(params.acquire.filters) <= {"R", "K"} and params.acquire.filters,
         "acquire.filters must be a non-empty list of 'R' and 'K'"),
        (bool(tile.channels) and set(tile.channels) <= set(params.acquire.filters),
         "tile.channels must be a non-empty list of acquire.filters"),
        (tile.normalisation in ("disk_centre", "quiet_sun"), "tile.normalisation must be disk_centre or quiet_sun"),
        (0 < tile.stride <= base.tile_size and (base.image_size - base.tile_size) % tile.stride == 0,
         "tile.stride must be in (0, base.tile_size] and step evenly across the image"),
        (params.validate.on_bad_file in ("fail", "quarantine"), "validate.on_bad_file must be fail or quarantine"),
        (tile.dask_workers >= 0, "tile.dask_workers must be >= 0 (0 = one per core)"),
        (0 <= params.acquire.synthetic.cycle_phase <= 1, "acquire.synthetic.cycle_phase must be in [0, 1]"),
        (0 < tile.split.val and 0 < tile.split.test and tile.split.val + tile.split.test < 1,
         "tile.split.val and test must be positive shares of the dates that leave some to train on"),
        (tile.split.block_days >= 1 and tile.split.gap_days >= 0,
         "tile.split.block_days must be >= 1 and gap_days >= 0"),
        (0 <= tile.min_disk_fraction < 1, "tile.min_disk_fraction must be in [0, 1)"),
        (tile.shards_per_split >= 1, "tile.shards_per_split must be >= 1"),
        *((0 < model.positive_fraction < 1, f"train.{kind}.positive_fraction must be in (0, 1)")
          for kind, model in params.train.items()),
        *((0 <= model.hard_negative_fraction < 1 - model.positive_fraction,
           f"train.{kind}.hard_negative_fraction must be in [0, 1 - positive_fraction)")
          for kind, model in params.train.items()),
        *((0 <= model.brightness < 0.5, f"train.{kind}.brightness must be in [0, 0.5)")
          for kind, model in params.train.items()),
        *((0 <= model.seeing_blur <= 8, f"train.{kind}.seeing_blur must be in [0, 8] pixels")
          for kind, model in params.train.items()),
        *((0 <= model.quicklook_fraction <= 1 and 1 <= model.quicklook_scale <= 10,
           f"train.{kind}.quicklook_fraction must be in [0, 1] and quicklook_scale in [1, 10]")
          for kind, model in params.train.items()),
        *((0 <= model.contrast_gamma < 1, f"train.{kind}.contrast_gamma must be in [0, 1)")
          for kind, model in params.train.items()),
        *((0 <= model.focal_gamma <= 5, f"train.{kind}.focal_gamma must be in [0, 5]")
          for kind, model in params.train.items()),
        *((0 <= model.small_spot_weight <= 100, f"train.{kind}.small_spot_weight must be in [0, 100]")
          for kind, model in params.train.items()),
        (params.train["classifier"].small_spot_weight == 0,
         "train.classifier.small_spot_weight must be 0: a tile's one label has no pores to weigh"),
        *((model.epochs >= 1 and model.patience >= 1 and model.steps_per_epoch >= 1,
           f"train.{kind}.epochs, steps_per_epoch and patience must be >= 1")
          for kind, model in params.train.items()),
        *((model.monitor in MONITORS[kind], f"train.{kind}.monitor must be one of {sorted(MONITORS[kind])}")
          for kind, model in params.train.items()),
        (0 < params.dust_map.dark_contrast < 1, "dust_map.dark_contrast must be in (0, 1)"),
        (params.dust_map.min_frames >= 2 and 0 <= params.dust_map.min_fraction < 1,
         "dust_map.min_frames must be >= 2 (one dark frame is a spot as often as dust) and min_fraction in [0, 1)"),
        (0 < params.full_disk.edge_grow <= params.full_disk.edge_trim <= 1,
         "full_disk.edge_grow and edge_trim must satisfy 0 < edge_grow <= edge_trim <= 1 (a pixel grown onto a "
         "spot must survive the trim)"),
        (0 <= params.full_disk.overlap <= base.tile_size // 2,
         "full_disk.overlap must be in [0, base.tile_size / 2] pixels"),
        (0 < params.evaluate.baseline_contrast_cut < 1, "evaluate.baseline_contrast_cut must be in (0, 1)"),
        (len(params.evaluate.stara_thresholds) > 0 and all(0 < t < 1 for t in params.evaluate.stara_thresholds),
         "evaluate.stara_thresholds must be a non-empty list of numbers in (0, 1)"),
        (0 <= params.evaluate.stara_arcsec_per_px <= 5,
         "evaluate.stara_arcsec_per_px must be a number in [0, 5] (0: STARA on the image's own pixels)"),
        *(rule for name, profile in params.profiles.items() for rule in _profile_rules(name, profile)),
        (not _has_credentials(params.acquire.lasp.base_url),
         "acquire.lasp.base_url: credentials do not belong in params.yaml (it is in git and logged to MLflow); "
         "give the URL without user, password or token"),
        (set(params.register.gates) <= set(MODEL_KINDS),
         f"register.gates must map some of {list(MODEL_KINDS)} to their gates"),
        *((isinstance(gates, dict) and all(str(gate).startswith(("min_", "max_")) and isinstance(bound, (int, float))
                                           for gate, bound in gates.items()),
           f"register.gates.{kind}: each gate is min_<metric> or max_<metric> with a number")
          for kind, gates in params.register.gates.items()),
    ]
    for ok, message in rules:
        if not ok:
            raise ConfigError(f"params.yaml: {message}")


def as_run_params(key: str, value: Any, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A params section as flat run params named by their ``params.yaml`` path (``tile.split.val_days``), the one
    way every stage records its settings, so runs of different stages line up by name in the MLflow UI.
    ``only`` or ``skip`` name the fields of ``value`` to keep or leave out (a list is one param)."""
    if not is_dataclass(value):
        return {key: value}
    names = [f.name for f in fields(value) if (not only or f.name in only) and f.name not in skip]
    return {name: param for field in names for name, param in as_run_params(f"{key}.{field}",
                                                                               getattr(value, field)).items()}


def load_params(path: str | os.PathLike = "params.yaml") -> Params:
    """Load and validate the whole params file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise ConfigError(f"{path}: cannot read params ({err.strerror or err}; run from the repository, or pass "
                          f"--params)") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise ConfigError(f"{path}: not valid YAML{line} ({getattr(err, 'problem', None) or err})") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections")
    train = raw.get("train", {})
    if set(train) != set(MODEL_KINDS):
        raise ConfigError(f"params.yaml: section 'train' must have exactly {list(MODEL_KINDS)}")
    params = Params(
        base=_build(Base, "base", raw.get("base")),
        acquire=_build_acquire(raw.get("acquire")),
        tile=_build_tile(raw.get("tile")),
        validate=_build(Validate, "validate", raw.get("validate")),
        train={kind: _build(TrainModel, f"train.{kind}", train[kind]) for kind in MODEL_KINDS},
        dust_map=_build(DustMapParams, "dust_map", raw.get("dust_map")),
        full_disk=_build(FullDisk, "full_disk", raw.get("full_disk")),
        evaluate=_build(Evaluate, "evaluate", raw.get("evaluate")),
        profiles=_build_profiles(raw.get("profiles")),
        register=_build(Register, "register", raw.get("register")),
    )
    _check(params)
    return params
