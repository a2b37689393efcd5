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
    """Earth-Sun distance on ``date``, to first order in the orbit's eccentricity.

    Parameters
    ----------
    date : datetime.date
        The day of observation (UTC).

    Returns
    -------
    float
        Distance in astronomical units: about 0.983 at perihelion (about 3 January), 1.017 at aphelion.

    References
    ----------
    .. [1] Meeus, J. (1998), *Astronomical Algorithms*, 2nd ed., ch. 25: eccentricity of Earth's orbit
       e = 0.01671, anomalistic year 365.256 days.
    """
    day = date.timetuple().tm_yday
    return 1.0 - 0.01671 * np.cos(2 * np.pi * (day - 3) / 365.256)


def apparent_radius_arcsec(date: dt.date) -> float:
    """The Sun's apparent radius seen from Earth on ``date``: about 976 arcsec in January, 945 in July.

    Parameters
    ----------
    date : datetime.date
        The day of observation (UTC).

    Returns
    -------
    float
        Angular radius in arcsec, ``RADIUS_ARCSEC_1AU`` scaled by the inverse Earth-Sun distance.

    References
    ----------
    .. [1] Auwers, A. (1891), *Astron. Nachr.* 128, 361: the solar radius of 959.63 arcsec at 1 AU, the
       value sunpy and the IAU use for the photosphere's apparent size.
    """
    return RADIUS_ARCSEC_1AU / earth_sun_distance_au(date)


def b0_angle_deg(date: dt.date) -> float:
    """Heliographic latitude of the disk centre (B0) on ``date``.

    Parameters
    ----------
    date : datetime.date
        The day of observation (UTC).

    Returns
    -------
    float
        B0 in degrees: 0 in early June and December, +7.25 in early September, -7.25 in early March.

    References
    ----------
    .. [1] Carrington, R. C. (1863), *Observations of the Spots on the Sun*: the solar equator is inclined
       7.25 degrees to the ecliptic, so B0 swings by that much over a year (a sine is its first-order form).
    """
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
