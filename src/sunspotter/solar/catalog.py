"""The sunspot catalog of one image: one row per sunspot region, and a per-image summary.

A region is a sunspot group: spots whose edges come within ``GROUP_DEGREES`` of each other on the sphere
are one region, as the leader, follower and pores of an active region are; regions under ``MIN_AREA_MSH``
are not listed, as in NOAA's daily region reports (areas in tens of MSH). Distances are taken on the sphere,
not in the image, so a group near the limb, squeezed by foreshortening, is grouped as at disk centre.
Areas are in millionths of the solar hemisphere (MSH), corrected for foreshortening: a pixel at mu
covers 1/mu times its projected area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from sunspotter.solar.solar_image import SolarImage

#: Contrast (intensity over the quiet Sun at the same mu) below which a sunspot pixel is umbra:
#: umbrae are 0.2-0.45 of the quiet Sun in the red continuum, penumbrae 0.75-0.85 (PSPT.md).
UMBRA_CONTRAST = 0.6
#: Spots whose edges are closer than this (heliographic degrees) belong to one region. The spots of an active
#: region spread over several degrees (leader to follower about 1 + 2 log10(area / MSH) degrees, PSPT.md);
#: chosen on the val split's region counts against 1.7 to 3.5 degrees (test frames not consulted).
GROUP_DEGREES = 5.0
#: Cells of spot edge the distances are taken between, at most: a mask with more edge pixels (thousands of
#: scattered specks) is taken a coarser cell at a time, which keeps the neighbour pairs, and memory, bounded.
MAX_EDGE_CELLS = 20_000
#: Smallest region listed, as NOAA's Solar Region Summary (areas in tens of MSH): about 60 pixels at disk
#: centre on a 976-pixel radius, a spot 9 pixels across.
MIN_AREA_MSH = 10.0
COLUMNS = ["region", "x", "y", "latitude_deg", "longitude_deg", "mu", "area_px", "area_msh", "umbra_msh",
           "penumbra_msh", "mean_contrast"]


def on_sphere(image: SolarImage, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unit vectors (n, 3) of disk pixel positions on the solar sphere (z towards the observer)."""
    u, v = (x - image.disk.center_x) / image.disk.radius, (y - image.disk.center_y) / image.disk.radius
    return np.stack([u, v, np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, None))], axis=1)


def label_regions(image: SolarImage, mask: np.ndarray, degrees: float = GROUP_DEGREES) -> tuple[np.ndarray, int]:
    """Label the mask's sunspot regions 1..n (0 elsewhere): spots (8-connected patches) closer than ``degrees``
    on the sphere share a label."""
    mask = mask.astype(bool)
    spots, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count < 2:
        return spots, count
    # Distances are between spot edges, taken a cell at a time: a cell is one pixel (exact) unless there are
    # too many, when cells grow (spots sharing one are then grouped, an approximation for thousands of specks).
    ys, xs = np.nonzero(mask & ~ndimage.binary_erosion(mask, structure=np.ones((3, 3))))
    cell = 1
    while True:
        cells, member = np.unique(np.stack([ys // cell, xs // cell]), axis=1, return_inverse=True)
        if cells.shape[1] <= MAX_EDGE_CELLS:
            break
        cell *= 2
    member = member.ravel()
    pixels = np.bincount(member)
    points = on_sphere(image, np.bincount(member, xs) / pixels, np.bincount(member, ys) / pixels)
    pairs = cKDTree(points).query_pairs(2 * np.sin(np.radians(degrees) / 2), output_type="ndarray")
    # A graph of spots (0..count) and cells (after them): each spot linked to the cells its edge crosses,
    # each cell to the cells within reach; a region is a connected set of spots.
    first_cell = count + 1
    rows = np.concatenate([spots[ys, xs], first_cell + pairs[:, 0]])
    cols = np.concatenate([first_cell + member, first_cell + pairs[:, 1]])
    nodes = first_cell + cells.shape[1]
    links = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(nodes, nodes))
    group = connected_components(links, directed=False)[1][:first_cell]
    # Renumber the groups 1..n in order of their lowest-numbered spot; the background keeps 0.
    _, renumbered = np.unique(group[1:], return_inverse=True)
    return np.concatenate([[0], renumbered + 1])[spots], int(renumbered.max()) + 1


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
    """The sunspot regions of ``mask`` on ``image``, one row per listed region.

    Parameters
    ----------
    image : SolarImage
        The image the mask is of; its disk and plate scale place each region on the sphere.
    mask : numpy.ndarray
        Sunspot pixels (non-zero) on ``image``'s pixels.

    Returns
    -------
    pandas.DataFrame
        The columns of ``COLUMNS``: ``x``, ``y`` are 0-based pixel positions in the input's own coordinates
        (column, row; a picture's row 0 is its top row); latitude and longitude in degrees (longitude from
        the central meridian); areas in MSH, corrected for foreshortening; regions under ``MIN_AREA_MSH``
        are left out.

    References
    ----------
    .. [1] NOAA/SWPC, Solar Region Summary: areas in millionths of the solar hemisphere (MSH), listed from
       10 MSH.
    """
    return listed_regions(image, mask)[1][COLUMNS]


def listed_regions(image: SolarImage, mask: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """The regions of ``mask`` labelled 1..n (``label_regions``) and the catalog of those listed, each row
    with its ``label`` in that array (regions under ``MIN_AREA_MSH`` keep a label but have no row)."""
    labels, count = label_regions(image, mask)
    if count == 0:
        return labels, pd.DataFrame(columns=[*COLUMNS, "label"])
    contrast, mu = image.flattened()
    index = np.arange(1, count + 1)
    on = labels > 0
    # A pixel's true area on the sphere is its projected area / mu; mu is floored where the limb cut hides spots.
    sphere_area = np.where(on, 1.0 / np.maximum(mu, 0.05), 0.0)
    hemisphere_px = 2 * np.pi * image.disk.radius**2
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
    table["label"] = index
    table = table[table["area_msh"] >= MIN_AREA_MSH].reset_index(drop=True)
    table["region"] = np.arange(1, len(table) + 1)
    return labels, table[[*COLUMNS, "label"]]


def summary(table: pd.DataFrame) -> dict:
    """Per-image figures: how many regions, their total area."""
    return {"regions": int(len(table)), "total_area_msh": float(table["area_msh"].sum()),
            "total_umbra_msh": float(table["umbra_msh"].sum())}
