"""Where the Sun sits in the image on a given date, and where a heliographic point lands on it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

#: Apparent solar radius at 1 AU.
RADIUS_ARCSEC_1AU = 959.63
#: PSPT plate scale (about 1 arcsec per pixel on the 2048 x 2048 CCD).
PSPT_PLATE_SCALE = 1.0
PSPT_IMAGE_SIZE = 2048


def earth_sun_distance_au(date: dt.date) -> float:
    """Earth-Sun distance from the orbit's eccentricity (perihelion about 3 January)."""
    day = date.timetuple().tm_yday
    return 1.0 - 0.01671 * np.cos(2 * np.pi * (day - 3) / 365.256)


def apparent_radius_arcsec(date: dt.date) -> float:
    """About 976 arcsec in January, 945 arcsec in July."""
    return RADIUS_ARCSEC_1AU / earth_sun_distance_au(date)


def b0_angle_deg(date: dt.date) -> float:
    """Heliographic latitude of the disk centre: 0 in early June and December, +7.25 in September."""
    day = date.timetuple().tm_yday
    return 7.25 * np.sin(2 * np.pi * (day - 158) / 365.25)


@dataclass(frozen=True)
class Disk:
    """The solar disk in image pixels (array index convention: row = y, col = x)."""

    center_x: float
    center_y: float
    radius: float
    b0_deg: float

    def mu_map(self, size: int) -> np.ndarray:
        """cos(heliocentric angle) per pixel, 0 off the disk."""
        y, x = np.ogrid[:size, :size]
        r2 = ((x - self.center_x) ** 2 + (y - self.center_y) ** 2) / self.radius**2
        return np.sqrt(np.clip(1.0 - r2, 0.0, None)).astype(np.float32)

    def project(self, lat_deg: float, lon_deg: float) -> tuple[float, float, float]:
        """Heliographic (latitude, longitude from central meridian) -> (x, y, mu); mu <= 0 is hidden."""
        lat, lon, b0 = np.radians([lat_deg, lon_deg, self.b0_deg])
        x = np.cos(lat) * np.sin(lon)
        y = np.sin(lat) * np.cos(b0) - np.cos(lat) * np.cos(lon) * np.sin(b0)
        mu = np.sin(lat) * np.sin(b0) + np.cos(lat) * np.cos(lon) * np.cos(b0)
        return self.center_x + self.radius * x, self.center_y + self.radius * y, float(mu)


def disk_for_date(date: dt.date, image_size: int, rng: np.random.Generator) -> Disk:
    """The disk on ``date``, scaled so it fills the image as on the 2048-pixel PSPT CCD, slightly off centre."""
    scale = image_size / PSPT_IMAGE_SIZE
    radius = apparent_radius_arcsec(date) / PSPT_PLATE_SCALE * scale
    offset = rng.normal(0.0, 4.0 * scale, size=2)
    centre = (image_size - 1) / 2
    return Disk(centre + offset[0], centre + offset[1], radius, b0_angle_deg(date))
