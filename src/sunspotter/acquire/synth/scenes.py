"""A disk holding exactly the spots asked for: one clear, ordinary observation of the synthetic Sun.

The archive (``synth.archive``) draws its regions, weather and dust at random; a behavioural check
needs the opposite: a frame whose every spot was placed on purpose, so that what a detector finds can
be held against it. The Sun is composed as the archive composes it (limb darkening, granulation,
features, seeing, darks and noise, through the same functions), with no plage, cloud or dust, and
ordinary seeing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from sunspotter.acquire.synth import features, observing, photometry
from sunspotter.acquire.synth.archive import CENTRE_COUNTS, LIMB_LAWS
from sunspotter.acquire.synth.geometry import PSPT_IMAGE_SIZE, Disk, disk_for_date
from sunspotter.io import pspt
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.solar_image import SolarImage, apparent_radius_arcsec

#: A perfect circle (no harmonics): its area on the sphere is exactly the spot's ``area_msh``.
ROUND = features.Outline((), ())
#: Seeing blur of an ordinary frame (sigma, px at 2048): the middle of the archive's clear-seeing range.
ORDINARY_SEEING_PX = float(np.mean(observing.SEEING_SIGMA_PX))
#: Penumbra radius over umbra radius, and penumbral intensity: the middle of the archive's ranges (regions.py).
UMBRA_RATIO, PENUMBRA_INTENSITY = 2.5, 0.8


@dataclass(frozen=True)
class Scene:
    image: SolarImage   # the red-continuum frame, as a detector would receive it
    truth: np.ndarray   # uint8, 1 = sunspot (umbra or penumbra), the archive's mask rule
    disk: Disk


def sunspot(lat: float, lon: float, area_msh: float, outline: features.Outline = ROUND) -> features.Spot:
    """A spot with a penumbra, as the archive draws one of ``area_msh``: the umbral intensity of its size."""
    return features.Spot(lat, lon, area_msh, UMBRA_RATIO, photometry.umbra_contrast(area_msh), PENUMBRA_INTENSITY,
                         outline, outline)


def pore(lat: float, lon: float, area_msh: float) -> features.Spot:
    """A round spot without a penumbra: umbra alone (the archive's spots under 10 MSH)."""
    return features.Spot(lat, lon, area_msh, 1.0, photometry.umbra_contrast(area_msh), PENUMBRA_INTENSITY,
                         ROUND, ROUND)


def heliographic(disk: Disk, x: float, y: float) -> tuple[float, float]:
    """(latitude, longitude from the central meridian), degrees, of the disk point at pixel (x, y):
    the inverse of ``Disk.project``."""
    u, v = (x - disk.center_x) / disk.radius, (y - disk.center_y) / disk.radius
    w = np.sqrt(max(1.0 - u * u - v * v, 0.0))
    b0 = np.radians(disk.b0_deg)
    lat = np.arcsin(np.clip(v * np.cos(b0) + w * np.sin(b0), -1.0, 1.0))
    lon = np.arctan2(u, w * np.cos(b0) - v * np.sin(b0))
    return float(np.degrees(lat)), float(np.degrees(lon))


def disk_of(size: int, date: dt.date, seed: int) -> Disk:
    """The disk a scene of ``size`` pixels on ``date`` puts the Sun on (seeded, so spots can be placed on it first)."""
    return disk_for_date(date, size, np.random.default_rng(seed))


def render_scene(spots: list[features.Spot], size: int, date: dt.date, seed: int = 0,
                 detector_frame: bool = False) -> Scene:
    """A ``size`` x ``size`` red-continuum frame of the Sun on ``date`` with ``spots`` and nothing else.

    The plate scale is the archive's for that size (the disk fills the frame as on the 2048-px CCD).
    With ``detector_frame`` the header carries the PSPT disk keys, as a frame of the archive's own
    detector does (what a dust map applies to); without them it is a frame from elsewhere.
    """
    rng = np.random.default_rng(seed)
    disk = disk_for_date(date, size, rng)  # the first draw: the same disk as ``disk_of``
    mu = disk.mu_map(size)
    no_plage = features.ActiveRegion(0.0, 0.0, 0.0, ROUND, tuple(spots))
    r_factor, _, codes = features.render(disk, size, mu, [no_plage], np.zeros((size, size), bool))
    sun = CENTRE_COUNTS["R"] * LIMB_LAWS["R"](mu) * r_factor * observing.granulation(rng, size)
    sun[mu <= 0] = 0.0
    clear = observing.Conditions(seeing_sigma_px=ORDINARY_SEEING_PX * size / PSPT_IMAGE_SIZE, bad_seeing=False,
                                 cloud_depth=0.0, dusty=False)
    darks = np.round(rng.uniform(80, 160, 4), 1)
    counts = observing.observe(sun, rng, clear, [], darks, CENTRE_COUNTS["R"])
    data = np.clip(np.round(counts), 0, np.iinfo(np.int16).max).astype(np.float32)
    when = dt.datetime.combine(date, dt.time(18, 0))
    header = fits.Header()
    header["DATE_OBS"] = when.isoformat()
    seen = SolarDisk(disk.center_x, disk.center_y, disk.radius)
    if detector_frame:
        header.update(seen.to_header())
    image = SolarImage(data, seen, apparent_radius_arcsec(when) / disk.radius,
                       when, Path(f"scene-{date.isoformat()}-{seed}"), header=header)
    return Scene(image, pspt.sunspot_mask(codes), disk)
