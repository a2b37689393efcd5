"""What the telescope and the sky do to the Sun's light: granulation, thin cloud, seeing, dust, darks, noise.

The hard cases that fool a threshold detector come from here, at rates set in params. None of
them touches the mask: the mask describes the Sun, not the weather.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sunspotter.config import Synthetic

#: Granulation contrast in the continuum, rms, before seeing (PSPT.md: about 1 %).
GRANULATION_RMS = 0.01
#: Photometric noise per pixel relative to disk centre (PSPT.md: about 0.1 %).
NOISE_RMS = 0.001
#: Seeing blur, Gaussian sigma in pixels at 2048 x 2048: an ordinary frame, and a bad one.
SEEING_SIGMA_PX, BAD_SEEING_SIGMA_PX = (0.6, 1.5), (3.0, 6.0)
#: Thin cloud: the most it dims any part of the disk, and the share of the light scattered into a halo.
CLOUD_DEPTH, CLOUD_SCATTER = (0.15, 0.5), 0.05
#: Dust on the optics: how many specks, their radius (px at 2048) and how much light they block.
DUST_COUNT, DUST_RADIUS_PX, DUST_DEPTH = 30, (3.0, 10.0), (0.2, 0.5)


@dataclass(frozen=True)
class Conditions:
    """One frame's sky and optics."""

    seeing_sigma_px: float
    bad_seeing: bool
    cloud_depth: float  # 0 when clear
    dusty: bool


@dataclass(frozen=True)
class Speck:
    x: float
    y: float
    radius: float
    depth: float


def draw_conditions(rng: np.random.Generator, rates: Synthetic, scale: float) -> Conditions:
    """This frame's seeing, cloud and dust, drawn at the hard-case rates in ``rates``."""
    bad = bool(rng.random() < rates.bad_seeing_rate)
    low, high = BAD_SEEING_SIGMA_PX if bad else SEEING_SIGMA_PX
    cloudy = rng.random() < rates.cloud_rate
    dusty = bool(rng.random() < rates.dust_rate)
    return Conditions(seeing_sigma_px=float(rng.uniform(low, high)) * scale, bad_seeing=bad,
                      cloud_depth=float(rng.uniform(*CLOUD_DEPTH)) if cloudy else 0.0, dusty=dusty)


def dust_specks(seed: int, size: int) -> list[Speck]:
    """Specks fixed in the detector frame for the whole archive: they sit at the same pixels every day."""
    rng = np.random.default_rng([seed, 2_000_003])
    scale = size / 2048
    return [Speck(x=float(rng.uniform(0.15, 0.85) * size), y=float(rng.uniform(0.15, 0.85) * size),
                  radius=max(float(rng.uniform(*DUST_RADIUS_PX)) * scale, 1.0), depth=float(rng.uniform(*DUST_DEPTH)))
            for _ in range(DUST_COUNT)]


def granulation(rng: np.random.Generator, size: int) -> np.ndarray:
    """Multiplicative granulation pattern, about 1 arcsec cells, GRANULATION_RMS contrast."""
    pattern = ndimage.gaussian_filter(rng.standard_normal((size, size), np.float32), max(size / 2048, 0.5))
    return 1.0 + pattern * (GRANULATION_RMS / max(float(pattern.std()), 1e-9))


def _smooth_field(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """A smooth random field in [0, 1] varying over about size / cells pixels (made small, then enlarged)."""
    coarse = rng.random((cells + 1, cells + 1)).astype(np.float32)
    field = ndimage.zoom(coarse, size / (cells + 1), order=3)[:size, :size]
    field -= field.min()
    return field / max(float(field.max()), 1e-9)


def cloud(intensity: np.ndarray, rng: np.random.Generator, depth: float) -> np.ndarray:
    """Thin cloud: a smooth, uneven attenuation plus light scattered into a halo around the disk."""
    size = intensity.shape[0]
    # Uneven on the scale of the disk: a ring-by-ring limb-darkening fit cannot take it out.
    attenuation = 1.0 - depth * _smooth_field(rng, size, 3)
    small = ndimage.zoom(intensity, 64 / size, order=1)
    halo = ndimage.zoom(ndimage.gaussian_filter(small, 6.0), size / 64, order=1)[:size, :size]
    return intensity * attenuation + CLOUD_SCATTER * depth / CLOUD_DEPTH[1] * halo


def dust(intensity: np.ndarray, specks: list[Speck]) -> np.ndarray:
    """Each speck is a soft shadow, sharp enough to pass for a pore."""
    out = intensity.copy()
    for speck in specks:
        reach = int(np.ceil(3 * speck.radius))
        r0, r1 = max(int(speck.y) - reach, 0), min(int(speck.y) + reach + 1, out.shape[0])
        c0, c1 = max(int(speck.x) - reach, 0), min(int(speck.x) + reach + 1, out.shape[1])
        y, x = np.mgrid[r0:r1, c0:c1]
        shadow = np.exp(-0.5 * ((x - speck.x) ** 2 + (y - speck.y) ** 2) / (speck.radius / 1.5) ** 2)
        out[r0:r1, c0:c1] *= 1.0 - speck.depth * shadow
    return out


def quadrant_darks(image: np.ndarray, darks: np.ndarray) -> np.ndarray:
    """Add each quadrant's residual dark level (DARK01..DARK04: top-left, top-right, bottom-left, bottom-right)."""
    half = image.shape[0] // 2
    out = image.copy()
    for quadrant, (rows, cols) in enumerate([(slice(0, half), slice(0, half)), (slice(0, half), slice(half, None)),
                                              (slice(half, None), slice(0, half)), (slice(half, None), slice(half, None))]):
        out[rows, cols] += darks[quadrant]
    return out


def optics(sun: np.ndarray, rng: np.random.Generator, conditions: Conditions, specks: list[Speck]) -> np.ndarray:
    """What the sky and the telescope make of the Sun's intensity: cloud, seeing blur, the detector's dust."""
    image = cloud(sun, rng, conditions.cloud_depth) if conditions.cloud_depth else sun
    image = ndimage.gaussian_filter(image, conditions.seeing_sigma_px)
    return dust(image, specks) if conditions.dusty and specks else image


def observe(sun: np.ndarray, rng: np.random.Generator, conditions: Conditions, specks: list[Speck],
            darks: np.ndarray, centre_counts: float) -> np.ndarray:
    """Turn the Sun's intensity (counts) into what the PSPT camera records, before rounding to integers."""
    image = quadrant_darks(optics(sun, rng, conditions, specks), darks)
    return image + rng.normal(0.0, NOISE_RMS * centre_counts, image.shape).astype(np.float32)
