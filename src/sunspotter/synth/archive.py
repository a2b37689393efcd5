"""Render synthetic PSPT observations and write them with the archive's names and headers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.time import Time
from scipy import ndimage

from sunspotter import pspt
from sunspotter.synth import features, photometry
from sunspotter.synth.geometry import disk_for_date

#: Disk-centre counts of the red continuum, well inside int16.
DISK_CENTRE_COUNTS = 20000.0
EXPOSURE_MINUTES = 6


@dataclass(frozen=True)
class SynthConfig:
    seed: int
    image_size: int
    start_date: str
    n_observations: int
    observation_time: str
    groups_per_image: float
    spot_free_fraction: float


@dataclass(frozen=True)
class Rendered:
    observation: pspt.Observation
    image: np.ndarray  # int16 counts, red continuum
    codes: np.ndarray  # uint8 PSPT mask codes
    header: fits.Header


def observation_for(config: SynthConfig, index: int) -> pspt.Observation:
    date = dt.date.fromisoformat(config.start_date) + dt.timedelta(days=index)
    return pspt.Observation(date.strftime("%Y%m%d"), config.observation_time)


def _header(obs: pspt.Observation, disk, darks, seeing_px: float, n_regions: int) -> fits.Header:
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
        header[f"DARK{i:02d}"] = (float(dark), f"dark level of quadrant {i}, counts")
    header["AVGWIDTH"] = (round(seeing_px * 2.355, 3), "limb width (seeing FWHM), pixels")
    header["NREGIONS"] = (n_regions, "synthetic active regions on the disk")
    return header


def render_observation(config: SynthConfig, index: int) -> Rendered:
    """Render one observation. Each observation has its own random stream, so any one can be redone alone."""
    rng = np.random.default_rng([config.seed, index])
    obs = observation_for(config, index)
    size = config.image_size
    disk = disk_for_date(dt.date.fromisoformat(obs.iso_date), size, rng)
    mu = disk.mu_map(size)
    spot_free = rng.random() < config.spot_free_fraction
    n_regions = 0 if spot_free else int(rng.poisson(config.groups_per_image))
    regions = [features.random_active_region(rng) for _ in range(n_regions)]
    factor, codes = features.render(disk, size, mu, regions)

    granulation = ndimage.gaussian_filter(rng.standard_normal((size, size), np.float32), 1.0) * 0.02
    intensity = DISK_CENTRE_COUNTS * photometry.limb_darkening(mu) * factor * (1 + granulation)
    intensity[mu <= 0] = 0.0
    seeing_px = float(rng.uniform(0.6, 1.5)) * max(size / 2048, 0.25)
    intensity = ndimage.gaussian_filter(intensity, seeing_px)
    intensity += rng.normal(0.0, 0.001 * DISK_CENTRE_COUNTS, intensity.shape).astype(np.float32)
    darks = np.round(rng.uniform(80, 160, 4), 1)
    half = size // 2
    for quadrant, (rows, cols) in enumerate([(slice(0, half), slice(0, half)), (slice(0, half), slice(half, None)),
                                              (slice(half, None), slice(0, half)), (slice(half, None), slice(half, None))]):
        intensity[rows, cols] += darks[quadrant]
    image = np.clip(np.round(intensity), 0, np.iinfo(np.int16).max).astype(np.int16)
    return Rendered(obs, image, codes, _header(obs, disk, darks, seeing_px, n_regions))


def write_observation(rendered: Rendered, out_dir: Path) -> list[Path]:
    """Write the red-continuum image and its mask under their archive names."""
    obs = rendered.observation
    image_header = rendered.header.copy()
    image_header["WAVELNTH"] = (pspt.WAVELENGTH_NM["R"], "filter central wavelength, nm")
    mask_header = rendered.header.copy()
    mask_header["WAVELNTH"] = (pspt.WAVELENGTH_NM["R"], "wavelength of the image the mask describes, nm")
    mask_header["MASKCODE"] = ("0 off,2 quiet,3 net,4 act.net,5 plage,6 fac,7 umbra,8 penumbra", "")
    paths = [out_dir / obs.file_name("R"), out_dir / obs.file_name("M")]
    pspt.write_fits(paths[0], rendered.image, image_header)
    pspt.write_fits(paths[1], rendered.codes, mask_header)
    return paths


def write_archive(config: SynthConfig, out_dir: Path, progress: bool = True) -> list[Path]:
    """Write the whole synthetic archive; the same config always gives byte-identical files."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for index in tqdm(range(config.n_observations), desc="synthesising", unit="obs", disable=not progress):
        written += write_observation(render_observation(config, index), out_dir)
    return written
