"""The sunspot catalog of one image: one row per sunspot region, and a per-image summary.

A region is a sunspot group: spots closer than ``MERGE_RADII`` of the disk radius (about 1.7
heliographic degrees at disk centre) are one region, as leader, follower and pores of an active region
are; regions under ``MIN_AREA_MSH`` are not listed, as in NOAA's daily region reports (areas in tens of MSH).
Areas are in millionths of the solar hemisphere (MSH), corrected for foreshortening: a pixel at mu
covers 1/mu times its projected area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from sunspotter.solar_image import SolarImage

#: Contrast (intensity over the quiet Sun at the same mu) below which a sunspot pixel is umbra:
#: umbrae are 0.2-0.45 of the quiet Sun in the red continuum, penumbrae 0.75-0.85 (PSPT.md).
UMBRA_CONTRAST = 0.6
#: Spots closer than this fraction of the disk radius belong to one region.
MERGE_RADII = 0.03
#: Smallest region listed, as NOAA's Solar Region Summary (areas in tens of MSH): about 60 pixels at disk
#: centre on a 976-pixel radius, a spot 9 pixels across.
MIN_AREA_MSH = 10.0
COLUMNS = ["region", "x", "y", "latitude_deg", "longitude_deg", "mu", "area_px", "area_msh", "umbra_msh",
           "penumbra_msh", "mean_contrast"]


def label_regions(mask: np.ndarray, merge_px: int) -> tuple[np.ndarray, int]:
    """Label the mask's sunspot regions 1..n (0 elsewhere); patches within ``merge_px`` pixels share a label."""
    mask = mask.astype(bool)
    # Growing every patch by half the distance joins patches that close; a square window is separable, so fast.
    half = merge_px // 2
    grown = ndimage.maximum_filter(mask, size=2 * half + 1) if half > 0 else mask
    labels, count = ndimage.label(grown, structure=np.ones((3, 3)))
    labels = np.where(mask, labels, 0)
    present = np.unique(labels[labels > 0])
    renumber = np.zeros(count + 1, np.int32)
    renumber[present] = np.arange(1, len(present) + 1)
    return renumber[labels], len(present)


def _heliographic(image: SolarImage, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stonyhurst latitude and longitude (degrees) of pixel positions; NaN without a date to place the Sun."""
    header = image.wcs_header()
    if "CTYPE1" not in header or len(x) == 0:
        return np.full(len(x), np.nan), np.full(len(x), np.nan)
    import astropy.units as u
    import sunpy.map
    from sunpy.coordinates import frames

    world = sunpy.map.Map(image.data, header).pixel_to_world(x * u.pix, y * u.pix)
    stonyhurst = world.transform_to(frames.HeliographicStonyhurst(obstime=world.obstime))
    return stonyhurst.lat.to_value(u.deg), stonyhurst.lon.to_value(u.deg)


def catalog(image: SolarImage, mask: np.ndarray) -> pd.DataFrame:
    """One row per region of ``mask`` on ``image``; x, y are 0-based pixel positions in the input's own
    coordinates (column, row; a picture's row 0 is its top row)."""
    labels, count = label_regions(mask, round(MERGE_RADII * image.radius))
    if count == 0:
        return pd.DataFrame(columns=COLUMNS)
    contrast, mu = image.flattened()
    index = np.arange(1, count + 1)
    on = labels > 0
    # A pixel's true area on the sphere is its projected area / mu; mu is floored where the limb cut hides spots.
    sphere_area = np.where(on, 1.0 / np.maximum(mu, 0.05), 0.0)
    hemisphere_px = 2 * np.pi * image.radius**2
    to_msh = 1e6 / hemisphere_px
    umbra = on & (contrast < UMBRA_CONTRAST)
    y, x = (np.array(c) for c in zip(*ndimage.center_of_mass(on, labels, index)))
    latitude, longitude = _heliographic(image, x, y)
    table = pd.DataFrame({
        "region": index,
        "x": x,
        "y": image.data.shape[0] - 1 - y if image.rows_flipped else y,
        "latitude_deg": latitude,
        "longitude_deg": longitude,
        "mu": ndimage.mean(mu, labels, index),
        "area_px": ndimage.sum_labels(on, labels, index).astype(int),
        "area_msh": ndimage.sum_labels(sphere_area, labels, index) * to_msh,
        "umbra_msh": ndimage.sum_labels(np.where(umbra, sphere_area, 0.0), labels, index) * to_msh,
        "mean_contrast": ndimage.mean(contrast, labels, index),
    })
    table["penumbra_msh"] = table["area_msh"] - table["umbra_msh"]
    table = table[table["area_msh"] >= MIN_AREA_MSH].reset_index(drop=True)
    table["region"] = np.arange(1, len(table) + 1)
    return table[COLUMNS]


def summary(table: pd.DataFrame) -> dict:
    """Per-image figures: how many regions, their total area."""
    return {"regions": int(len(table)), "total_area_msh": float(table["area_msh"].sum()),
            "total_umbra_msh": float(table["umbra_msh"].sum())}
