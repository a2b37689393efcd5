"""Render synthetic PSPT observations and write them with the archive's names and headers.

Per observation: red continuum (``R``), Ca II K (``K``) and the mask (``M``), named
``YYYYMMDD.HHMM.HW.<F>.P.rdc.fits.gz``. Headers carry the PSPT keys (``DATE_OBS``, ``WAVELNTH``,
``CENTER_X``, ``CENTER_Y``, ``DARK01``..``DARK04``, ``AVGWIDTH``), our radius key ``RADIUS``
(pixels; the archive's own name for it is unknown), and the synthetic truth about the frame:
``SYNDUST`` (dust specks present), ``SYNCLOUD`` (peak cloud attenuation, 0 = clear),
``SYNBLUR`` (seeing blur sigma, pixels) and ``SYNBADSE`` (a bad-seeing frame).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time

from sunspotter.acquire.synth import features, observing, photometry, regions
from sunspotter.acquire.synth.geometry import Disk, disk_for_date
from sunspotter.config import Synthetic
from sunspotter.io import pspt

#: Disk-centre counts per filter, well inside int16.
CENTRE_COUNTS = {"R": 20000.0, "K": 12000.0}
LIMB_LAWS = {"R": photometry.limb_darkening, "K": photometry.k_limb_darkening}
EXPOSURE_MINUTES = 6


@dataclass(frozen=True)
class SynthConfig:
    seed: int
    image_size: int
    start_date: str
    n_days: int
    filters: tuple[str, ...]
    settings: Synthetic


@dataclass(frozen=True)
class Rendered:
    observation: pspt.Observation
    images: dict[str, np.ndarray]  # filter letter -> int16 counts
    codes: np.ndarray              # uint8 PSPT mask codes
    header: fits.Header


@dataclass(frozen=True)
class Archive:
    """What every observation of one archive shares: its config, its active regions and its dust."""

    config: SynthConfig
    tracks: list[regions.RegionTrack]
    specks: list[observing.Speck]

    @classmethod
    def create(cls, config: SynthConfig) -> "Archive":
        return cls(config, regions.population(config.seed, config.n_days, config.settings.cycle_phase),
                   observing.dust_specks(config.seed, config.image_size))

    def observation(self, index: int) -> pspt.Observation:
        date = dt.date.fromisoformat(self.config.start_date) + dt.timedelta(days=index)
        return pspt.Observation(date.strftime("%Y%m%d"), self.config.settings.observation_time)


def _header(obs: pspt.Observation, disk, darks, conditions: observing.Conditions, n_regions: int) -> fits.Header:
    start = dt.datetime.strptime(obs.key, "%Y%m%d.%H%M")
    end = start + dt.timedelta(minutes=EXPOSURE_MINUTES)
    header = fits.Header()
    header["DATE_OBS"] = (start.strftime("%Y-%m-%dT%H:%M:%S"), "start of observation (UT)")
    header["DATE_END"] = (end.strftime("%Y-%m-%dT%H:%M:%S"), "end of observation (UT)")
    header["JULDATE"] = (round(Time(start).jd, 6), "Julian date of DATE_OBS")
    header["OBS_TYPE"] = ("SYNTHETIC", "sunspotter synthetic PSPT archive")
    header["CENTER_X"] = (round(disk.center_x, 3), "disk centre column, 0-based pixel")
    header["CENTER_Y"] = (round(disk.center_y, 3), "disk centre row, 0-based pixel")
    header[pspt.RADIUS_KEY] = (round(disk.radius, 3), "solar disk radius in pixels")
    header["SOLAR_B0"] = (round(disk.b0_deg, 4), "B0 angle, degrees")
    for i, dark in enumerate(darks, start=1):
        header[f"DARK{i:02d}"] = (float(dark), f"residual dark level of quadrant {i}, counts")
    header["AVGWIDTH"] = (round(conditions.seeing_sigma_px * 2.355, 3), "limb width (seeing FWHM), pixels")
    header["NREGIONS"] = (n_regions, "synthetic active regions on the disk")
    header["SYNDUST"] = (conditions.dusty, "synthetic: dust specks on the optics")
    header["SYNCLOUD"] = (round(conditions.cloud_depth, 4), "synthetic: peak thin-cloud attenuation")
    header["SYNBLUR"] = (round(conditions.seeing_sigma_px, 4), "synthetic: seeing blur sigma, pixels")
    header["SYNBADSE"] = (conditions.bad_seeing, "synthetic: a bad-seeing frame")
    return header


@dataclass(frozen=True)
class Sun:
    """One date's Sun as it reaches the telescope, at one image size, with what the sky does that day."""

    observation: pspt.Observation
    disk: Disk
    mu: np.ndarray
    conditions: observing.Conditions
    red: np.ndarray      # red-continuum intensity relative to the local quiet Sun (features, granulation)
    k_factor: np.ndarray  # ... in Ca II K
    codes: np.ndarray    # uint8 PSPT mask codes
    visible_regions: int


def render_sun(archive: Archive, index: int, size: int, rng: np.random.Generator) -> Sun:
    """The Sun of observation ``index`` on a ``size`` x ``size`` image (the disk fills it as on PSPT's CCD).

    Draws from ``rng`` in a fixed order, so an image of another size from the same stream has the same
    disk position, sky and seeing in arcseconds (``synth.instruments``)."""
    config = archive.config
    obs = archive.observation(index)
    disk = disk_for_date(dt.date.fromisoformat(obs.iso_date), size, rng)
    mu = disk.mu_map(size)
    conditions = observing.draw_conditions(rng, config.settings, size / 2048)
    when = dt.datetime.strptime(obs.key, "%Y%m%d.%H%M")
    on_disk = regions.regions_on(archive.tracks, regions.day_number(dt.date.fromisoformat(config.start_date), when))
    r_factor, k_factor, codes = features.render(disk, size, mu, on_disk, features.network_lanes(rng, size))
    red = r_factor * observing.granulation(rng, size)
    visible = sum(1 for region in on_disk if disk.project(region.lat, region.lon)[2] > 0)
    return Sun(obs, disk, mu, conditions, red, k_factor, codes, visible)


def render_observation(archive: Archive, index: int) -> Rendered:
    """Render one observation. Each has its own random stream, so any one can be redone alone."""
    config = archive.config
    rng = np.random.default_rng([config.seed, index])
    sun = render_sun(archive, index, config.image_size, rng)
    factors = {"R": sun.red, "K": sun.k_factor}
    darks = np.round(rng.uniform(80, 160, 4), 1)
    images = {}
    for letter in config.filters:
        counts = CENTRE_COUNTS[letter] * LIMB_LAWS[letter](sun.mu) * factors[letter]
        counts[sun.mu <= 0] = 0.0
        counts = observing.observe(counts, rng, sun.conditions, archive.specks, darks, CENTRE_COUNTS[letter])
        images[letter] = np.clip(np.round(counts), 0, np.iinfo(np.int16).max).astype(np.int16)
    return Rendered(sun.observation, images, sun.codes,
                    _header(sun.observation, sun.disk, darks, sun.conditions, sun.visible_regions))


def write_observation(rendered: Rendered, out_dir: Path) -> list[Path]:
    """Write each filter's image and the mask under their archive names."""
    obs = rendered.observation
    paths = []
    for letter, image in rendered.images.items():
        header = rendered.header.copy()
        header["WAVELNTH"] = (pspt.WAVELENGTH_NM[letter], "filter central wavelength, nm")
        paths.append(out_dir / obs.file_name(letter))
        pspt.write_fits(paths[-1], image, header)
    mask_header = rendered.header.copy()
    mask_header["WAVELNTH"] = (pspt.WAVELENGTH_NM["R"], "wavelength of the image the mask describes, nm")
    mask_header["MASKCODE"] = ("0 off,2 quiet,3 net,4 act.net,5 plage,6 fac,7 umbra,8 penumbra", "")
    paths.append(out_dir / obs.file_name("M"))
    pspt.write_fits(paths[-1], rendered.codes, mask_header)
    return paths


def _render_and_write(archive: Archive, out_dir: Path, index: int) -> list[Path]:
    return write_observation(render_observation(archive, index), out_dir)


def write_archive(config: SynthConfig, out_dir: Path, progress: bool = True, workers: int = 0) -> list[Path]:
    """Write the whole synthetic archive; the same config always gives byte-identical files.

    Observations are rendered in ``workers`` processes (0: one per core): each has its own random stream,
    so the files do not depend on which process made them.
    """
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = Archive.create(config)
    workers = min(workers or os.cpu_count() or 1, config.n_days)
    job = partial(_render_and_write, archive, out_dir)
    bar = partial(tqdm, total=config.n_days, desc="synthesising", unit="obs", disable=not progress)
    if workers == 1:
        return [path for paths in bar(map(job, range(config.n_days))) for path in paths]
    with ProcessPoolExecutor(workers) as pool:
        return [path for paths in bar(pool.map(job, range(config.n_days))) for path in paths]
