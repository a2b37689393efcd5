"""Checks on the raw archive: every image has a readable mask of the same shape, with valid codes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from sunspotter.checks.suite import Outcome, Rule, ValidationFailed, validate
from sunspotter.io import pspt
from sunspotter.solar.disk import SolarDisk

SUITE = "raw_fits"


def _header_ok(header) -> bool:
    """Required keys present; the date parses; the disk geometry is numeric."""
    try:
        dt.datetime.fromisoformat(str(header["DATE_OBS"]))
        return all(np.isfinite(float(header[k])) for k in ("CENTER_X", "CENTER_Y", pspt.RADIUS_KEY, "WAVELNTH"))
    except (KeyError, ValueError, TypeError):
        return False


def disk_offset_px(on_disk: np.ndarray, header) -> float:
    """How far a disk map's centroid and equal-area radius are from the header's CENTER_X, CENTER_Y and
    RADIUS, in pixels (the largest of the three differences); -1 when either is missing."""
    area = int(np.count_nonzero(on_disk))
    try:
        disk = SolarDisk.from_header(header)
    except (KeyError, ValueError, TypeError):
        return -1.0
    if area == 0:
        return -1.0
    fitted_y = float(on_disk.sum(axis=1) @ np.arange(on_disk.shape[0])) / area
    fitted_x = float(on_disk.sum(axis=0) @ np.arange(on_disk.shape[1])) / area
    return max(abs(fitted_x - disk.center_x), abs(fitted_y - disk.center_y), abs(np.sqrt(area / np.pi) - disk.radius))


def bright_disk(image: np.ndarray) -> np.ndarray:
    """The solar disk as the image shows it: brighter than a fifth of the way from the sky to the disk.

    Even the limb (0.3 of the centre) and a cloud-dimmed disk clear that level; scattered light does not.
    """
    sample = image[::8, ::8].astype(np.float32)
    sky, disk = np.percentile(sample, 5), np.percentile(sample, 60)  # the disk covers about 3/4 of a PSPT frame
    return image > sky + 0.2 * (disk - sky)


def _describe_fits(path: Path, prefix: str) -> tuple[dict, np.ndarray | None, object]:
    """One file's facts as columns named ``<prefix>_...``, its data and header (None when unreadable)."""
    facts = {f"{prefix}_readable": False, f"{prefix}_error": "", f"{prefix}_height": -1, f"{prefix}_width": -1,
             f"{prefix}_ndim": -1, f"{prefix}_dtype": "", f"{prefix}_nonfinite": -1, f"{prefix}_header_ok": False}
    try:
        data, header = pspt.read_fits(path)
    except pspt.PSPTFileError as err:
        facts[f"{prefix}_error"] = str(err)
        return facts, None, None
    facts.update({
        f"{prefix}_readable": True, f"{prefix}_ndim": data.ndim, f"{prefix}_dtype": str(data.dtype),
        f"{prefix}_height": data.shape[0] if data.ndim == 2 else -1,
        f"{prefix}_width": data.shape[1] if data.ndim == 2 else -1,
        f"{prefix}_nonfinite": int(np.count_nonzero(~np.isfinite(data))) if data.dtype.kind == "f" else 0,
        f"{prefix}_header_ok": _header_ok(header),
    })
    return facts, data, header


def _describe_image(raw_dir: Path, path: Path, obs: pspt.Observation, letter: str) -> dict:
    row = {"file": path.name, "name_ok": True, "observation": obs.key, "image_id": f"{obs.key}.{letter}",
           "orphan_mask": False}
    image_facts, image, header = _describe_fits(path, "image")
    row.update(image_facts)
    row["image_disk_offset_px"] = disk_offset_px(bright_disk(image), header) if image is not None and image.ndim == 2 else -1.0
    try:
        mask_path = pspt.find_file(raw_dir, obs, "M")
    except pspt.PSPTFileError:  # two masks of this observation: both get a row below, and the duplicate is caught
        mask_path = None
    row["mask_present"] = mask_path is not None
    mask_facts, codes, _ = _describe_fits(mask_path, "mask") if mask_path else ({}, None, None)
    row.update(mask_facts)
    row["shapes_match"] = bool(row["image_readable"] and row.get("mask_readable")
                               and (row["image_height"], row["image_width"]) == (row["mask_height"], row["mask_width"]))
    row["invalid_codes"] = int(np.count_nonzero(~np.isin(codes, list(pspt.VALID_MASK_CODES)))) if codes is not None else -1
    row["disk_pixels"] = int(np.count_nonzero(codes)) if codes is not None else -1
    # The image's header says where the disk is; the mask's off-disk code 0 must agree with it.
    row["mask_disk_offset_px"] = (disk_offset_px(codes != pspt.OFF_DISK, header)
                                  if codes is not None and codes.ndim == 2 and header is not None else -1.0)
    return row


def describe_raw(raw_dir: Path, filters: list[str], progress: bool = True) -> pd.DataFrame:
    """One row per image (joined with its mask), per stray file, and per mask without an image or with a
    twin (the same observation under another suffix: ``.fits`` beside ``.fits.gz``)."""
    from tqdm import tqdm

    raw_dir = Path(raw_dir)
    rows, images = [], set()
    files = sorted(p for p in raw_dir.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.name not in pspt.SIDE_FILES)
    for path in tqdm(files, desc="validate_raw: reading", unit="file", disable=not progress):
        try:
            obs, letter = pspt.parse_file_name(path.name)
        except pspt.PSPTFileError:
            rows.append({"file": path.name, "name_ok": False})
            continue
        if letter in filters:
            images.add(obs)
            rows.append(_describe_image(raw_dir, path, obs, letter))
    masks = pspt.observation_files(raw_dir, "M")
    twins = Counter(obs for _, obs in masks)
    for path, obs in masks:
        if obs not in images or twins[obs] > 1:
            rows.append({"file": path.name, "name_ok": True, "observation": obs.key, "image_id": f"{obs.key}.M",
                         "orphan_mask": obs not in images})
    table = pd.DataFrame(rows)
    defaults = {"orphan_mask": False, "mask_present": False, "image_readable": False, "mask_readable": False,
                "image_header_ok": False, "shapes_match": False, "image_nonfinite": -1, "invalid_codes": -1,
                "image_height": -1, "image_width": -1, "disk_pixels": -1, "observation": "", "image_id": "",
                "image_disk_offset_px": -1.0, "mask_disk_offset_px": -1.0}
    for column, default in defaults.items():
        if column not in table:
            table[column] = default
        table[column] = table[column].fillna(default).astype(type(default))
    return table


def raw_rules(image_size: int) -> list[Rule]:
    tolerance = max(2.0, 3.0 * image_size / 2048)  # "within a few pixels" of a 2048-pixel frame
    return [
        Rule(f"the disk seen in the image is where CENTER_X, CENTER_Y, RADIUS say (within {tolerance:g} px)",
             gxe.ExpectColumnValuesToBeBetween(column="image_disk_offset_px", min_value=0, max_value=tolerance)),
        Rule(f"the mask's off-disk code 0 agrees with CENTER_X, CENTER_Y, RADIUS (within {tolerance:g} px)",
             gxe.ExpectColumnValuesToBeBetween(column="mask_disk_offset_px", min_value=0, max_value=tolerance)),
        Rule("file name follows YYYYMMDD.HHMM.HW.<F>.P.rdc.fits[.gz|.fz]", gxe.ExpectColumnValuesToBeInSet(column="name_ok", value_set=[True])),
        Rule("image is readable FITS with data", gxe.ExpectColumnValuesToBeInSet(column="image_readable", value_set=[True])),
        Rule("every image has its mask (…HW.M.P.rdc.fits[.gz|.fz])", gxe.ExpectColumnValuesToBeInSet(column="mask_present", value_set=[True])),
        Rule("every mask has its image", gxe.ExpectColumnValuesToBeInSet(column="orphan_mask", value_set=[False])),
        Rule("mask is readable FITS with data", gxe.ExpectColumnValuesToBeInSet(column="mask_readable", value_set=[True])),
        Rule(f"image is {image_size} x {image_size}", gxe.ExpectColumnValuesToBeBetween(column="image_height", min_value=image_size, max_value=image_size)),
        Rule(f"image is {image_size} x {image_size}", gxe.ExpectColumnValuesToBeBetween(column="image_width", min_value=image_size, max_value=image_size)),
        Rule("image and mask have the same shape", gxe.ExpectColumnValuesToBeInSet(column="shapes_match", value_set=[True])),
        Rule("image has no NaN or Inf", gxe.ExpectColumnValuesToBeBetween(column="image_nonfinite", min_value=0, max_value=0)),
        Rule("mask codes are within {0, 2, ..., 8}", gxe.ExpectColumnValuesToBeBetween(column="invalid_codes", min_value=0, max_value=0)),
        Rule("mask marks a solar disk (some non-zero codes)", gxe.ExpectColumnValuesToBeBetween(column="disk_pixels", min_value=1)),
        Rule("header has DATE_OBS, WAVELNTH, CENTER_X, CENTER_Y, RADIUS, all parsable",
             gxe.ExpectColumnValuesToBeInSet(column="image_header_ok", value_set=[True])),
        Rule("no observation appears twice", gxe.ExpectColumnValuesToBeUnique(column="image_id")),
    ]


def check_raw(raw_dir: Path, filters: list[str], image_size: int,
              docs_dir: Path | None = None) -> tuple[Outcome, int, pd.DataFrame]:
    """Check the images of ``filters`` in ``raw_dir``, each joined with its mask (Data Docs into ``docs_dir``)."""
    table = describe_raw(raw_dir, list(filters))
    rules = raw_rules(image_size)
    return validate(SUITE, table, rules, id_column="file", docs_dir=docs_dir), len(rules), table


@dataclass(frozen=True)
class Quarantine:
    observations: list[str]  # observation keys set aside: none of their files is used
    files: list[str]         # every file named by a failure, stray files included


def quarantine(outcome: Outcome, table: pd.DataFrame) -> Quarantine:
    """What to set aside so that the rest passes: the observations of every file a failure names.

    A failure that names no file (a rule about the whole table) cannot be quarantined: ValidationFailed.
    """
    observation_of = dict(zip(table["file"], table["observation"]))
    observations, files = set(), set()
    for failure in outcome.failures:
        for name in failure["unexpected"]:
            if name not in observation_of:
                raise ValidationFailed(f"cannot quarantine '{failure['rule']}': it names no file ({name})")
            files.add(name)
            if observation_of[name]:
                observations.add(observation_of[name])
    return Quarantine(sorted(observations), sorted(files))
