"""Sunspots, plage and network drawn into the maps that the images and the mask share.

Features are placed in heliographic coordinates and projected onto the disk, so they are
foreshortened toward the limb. Each one is rendered once into a PSPT code map; the red-continuum
and Ca II K contrasts are looked up from that same map, which is what makes the masks exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sunspotter.acquire.synth import photometry
from sunspotter.acquire.synth.geometry import Disk
from sunspotter.io import pspt

#: Supergranular network cells are about 30 Mm, some 40 arcsec: the lanes are drawn at this scale (pixels at 2048).
NETWORK_SCALE_PX = 14.0
#: Fraction of the quiet disk that is bright network in Ca II K.
NETWORK_FRACTION = 0.18


@dataclass(frozen=True)
class Outline:
    """An irregular closed outline: radius factor 1 + sum a_k cos(k theta + phase_k)."""

    amplitudes: tuple[float, ...]
    phases: tuple[float, ...]

    @classmethod
    def random(cls, rng: np.random.Generator, roughness: float) -> "Outline":
        orders = 4
        return cls(tuple(rng.uniform(0, roughness, orders) / np.arange(1, orders + 1)),
                   tuple(rng.uniform(0, 2 * np.pi, orders)))

    def factor(self, theta: np.ndarray) -> np.ndarray:
        out = np.ones_like(theta)
        for k, (amp, phase) in enumerate(zip(self.amplitudes, self.phases), start=2):
            out += amp * np.cos(k * theta + phase)
        return out


@dataclass(frozen=True)
class Spot:
    lat: float
    lon: float
    area_msh: float
    umbra_ratio: float  # penumbra radius / umbra radius (2.4-2.65); 1 for a pore
    umbra_intensity: float
    penumbra_intensity: float
    outline: Outline
    umbra_outline: Outline

    @property
    def is_pore(self) -> bool:
        return self.umbra_ratio == 1.0


@dataclass(frozen=True)
class ActiveRegion:
    lat: float
    lon: float
    plage_radius_deg: float
    plage_outline: Outline
    spots: tuple[Spot, ...]


def _footprint(disk: Disk, size: int, lat: float, lon: float, radius_px: float, outline: Outline):
    """Pixels inside a projected irregular circle: (bounding-box slices, boolean mask), or None if hidden.

    The circle lies on the sphere, so on the image it is squeezed by mu along the radial direction.
    """
    x0, y0, mu0 = disk.project(lat, lon)
    if mu0 <= 0.02 or radius_px <= 0:
        return None
    reach = radius_px * 1.6 + 2
    r0, r1 = int(max(np.floor(y0 - reach), 0)), int(min(np.ceil(y0 + reach) + 1, size))
    c0, c1 = int(max(np.floor(x0 - reach), 0)), int(min(np.ceil(x0 + reach) + 1, size))
    if r0 >= r1 or c0 >= c1:
        return None
    y, x = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    dx, dy = x - x0, y - y0
    radial = np.array([x0 - disk.center_x, y0 - disk.center_y])
    norm = np.hypot(*radial)
    ex, ey = (radial / norm) if norm > 1e-6 else (1.0, 0.0)
    along = (dx * ex + dy * ey) / mu0
    across = -dx * ey + dy * ex
    rho, theta = np.hypot(along, across), np.arctan2(across, along)
    inside = rho < radius_px * outline.factor(theta)
    return (slice(r0, r1), slice(c0, c1)), inside


def spot_radius_px(area_msh: float, disk_radius: float) -> float:
    """Radius in pixels of a disk-centre circle covering ``area_msh``.

    Parameters
    ----------
    area_msh : float
        Area in millionths of the solar hemisphere (MSH), as NOAA reports spot areas.
    disk_radius : float
        The solar disk's radius in pixels.

    Returns
    -------
    float
        The radius in pixels: one MSH is 1e-6 of the hemisphere's 2 pi R^2.

    References
    ----------
    .. [1] NOAA/SWPC, Solar Region Summary: areas in millionths of the solar hemisphere, corrected for
       foreshortening.
    """
    return disk_radius * np.sqrt(2e-6 * area_msh)


def network_lanes(rng: np.random.Generator, size: int) -> np.ndarray:
    """Boolean map of chromospheric network: the ridges of band-passed noise, drawn at low resolution for speed."""
    scale = size / 2048
    small = max(int(size / 4), 16)
    noise = rng.standard_normal((small, small)).astype(np.float32)
    sigma = NETWORK_SCALE_PX * scale / 4
    band = ndimage.gaussian_filter(noise, sigma) - ndimage.gaussian_filter(noise, 2.5 * sigma)
    ridges = np.abs(band) < np.quantile(np.abs(band), NETWORK_FRACTION)
    return ndimage.zoom(ridges, size / small, order=0)[:size, :size]


def render(disk: Disk, size: int, mu: np.ndarray, regions: list[ActiveRegion], network: np.ndarray):
    """Return (red-continuum factor, Ca II K factor, PSPT codes), factors relative to the local quiet Sun."""
    on_disk = mu > 0
    codes = np.where(on_disk, pspt.QUIET_SUN, pspt.OFF_DISK).astype(np.uint8)
    codes[on_disk & network] = pspt.NETWORK
    r_factor = np.ones((size, size), np.float32)
    # Plage first, spots over it: a spot pixel is a spot whatever surrounds it.
    for region in regions:
        radius = disk.radius * np.radians(region.plage_radius_deg)
        for scale, code in ((1.5, pspt.ACTIVE_NETWORK), (1.0, pspt.PLAGE), (0.55, pspt.FACULAE)):
            hit = _footprint(disk, size, region.lat, region.lon, radius * scale, region.plage_outline)
            if hit is None:
                continue
            box, inside = hit
            inside &= on_disk[box]
            if code == pspt.ACTIVE_NETWORK:
                inside &= network[box]  # active network is the network inside the region's reach
            codes[box][inside] = code
            boost = {pspt.ACTIVE_NETWORK: 0.2, pspt.PLAGE: 0.5, pspt.FACULAE: 1.0}[code]
            r_factor[box][inside] = 1.0 + boost * photometry.facular_contrast(mu[box][inside])
    for region in regions:
        for spot in region.spots:
            outer = spot_radius_px(spot.area_msh, disk.radius)
            layers = [(outer / spot.umbra_ratio, spot.umbra_outline, pspt.UMBRA, spot.umbra_intensity)]
            if not spot.is_pore:
                layers.insert(0, (outer, spot.outline, pspt.PENUMBRA, spot.penumbra_intensity))
            for radius, outline, code, intensity in layers:
                hit = _footprint(disk, size, spot.lat, spot.lon, radius, outline)
                if hit is None:
                    continue
                box, inside = hit
                inside &= on_disk[box]
                codes[box][inside] = code
                r_factor[box][inside] = intensity
    k_lookup = np.ones(9, np.float32)
    for code, contrast in photometry.K_CONTRAST.items():
        k_lookup[code] = contrast
    k_factor = k_lookup[codes]
    # The archive's rule: near the limb (mu < 0.15) every disk pixel is quiet Sun in the mask,
    # though the features are still there in the images.
    codes[on_disk & (mu < pspt.LIMB_MU)] = pspt.QUIET_SUN
    return r_factor, k_factor, codes
