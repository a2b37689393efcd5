"""The sunspot catalog of one image: one row per sunspot region, and a per-image summary.

A region is a sunspot group: spots whose edges come within ``GROUP_DEGREES`` of each other on the sphere
are one region, as the leader, follower and pores of an active region are; regions under ``MIN_AREA_MSH``
are not listed, as in NOAA's daily region reports (areas in tens of MSH). Distances are taken on the sphere,
not in the image, so a group near the limb, squeezed by foreshortening, is grouped as at disk centre.
Areas are in millionths of the solar hemisphere (MSH), corrected for foreshortening: a pixel at mu
covers 1/mu times its projected area.

Each row can be put beside NOAA's Solar Region Summary and the HEK: positions in helioprojective,
Stonyhurst and Carrington coordinates (Earth's view), NOAA's location string, longitudinal extent and spot
count. ``SCHEMA`` names every column with its unit; docs/catalog.md tables the same, frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
import pandas as pd
from astropy import constants
from astropy.table import MaskedColumn, QTable
from astropy.time import Time
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
#: chosen on the val split's region counts (test frames not consulted): first against 1.7 to 3.5 degrees (5
#: won), then with the localizer of 2026-12-07 over 3.5 to 8 in half degrees, the smallest of the best (exact
#: counts on 6 of 8 val frames from 6 to 8 degrees, 5 of 8 at 5 and 5.5, 4 of 8 at 4.5).
GROUP_DEGREES = 6.0
#: Cells of spot edge the distances are taken between, at most: a mask with more edge pixels (thousands of
#: scattered specks) is taken a coarser cell at a time, which keeps the neighbour pairs, and memory, bounded.
MAX_EDGE_CELLS = 20_000
#: Smallest region listed, as NOAA's Solar Region Summary (areas in tens of MSH): about 60 pixels at disk
#: centre on a 976-pixel radius, a spot 9 pixels across.
MIN_AREA_MSH = 10.0
#: Neighbours of a pixel: spots, their edges and umbral cores are all 8-connected patches.
EIGHT_CONNECTED = np.ones((3, 3), bool)
#: A millionth of the solar hemisphere, 2 pi R_sun^2 / 1e6 (R_sun the IAU 2015 nominal radius, 695 700 km):
#: NOAA's unit of sunspot area, about 3.04e6 km^2.
MSH = u.def_unit("MSH", 2e-6 * np.pi * constants.R_sun**2, doc="millionth of the solar hemisphere")
# Known to astropy's unit parser from here on, so that a catalog's ECSV file (which names the unit "MSH") reads
# back with its areas in MSH through plain ``QTable.read``, in any program that imports sunspotter.
u.add_enabled_units([MSH])


@dataclass(frozen=True)
class Column:
    """One catalog column: its name, its unit (None for a count, a ratio or text) and what it holds."""

    name: str
    unit: u.UnitBase | None
    description: str


#: Every column of the catalog, in order; docs/catalog.md tables the same names and units (a test checks it).
SCHEMA = (
    Column("region", None, "region number in this image, 1..n"),
    Column("x", u.pix, "column of the region's area-weighted centroid, 0-based, in the input's own pixels"),
    Column("y", u.pix, "row of the region's area-weighted centroid, 0-based, in the input's own pixels"),
    Column("latitude_deg", u.deg, "Stonyhurst latitude of the centroid (as hgs_lat_deg)"),
    Column("longitude_deg", u.deg, "Stonyhurst longitude of the centroid, from the central meridian (as hgs_lon_deg)"),
    Column("mu", None, "mean cosine of the heliocentric angle of the region's pixels"),
    Column("area_px", u.pix**2, "pixels in the region"),
    Column("area_msh", MSH, "area on the sphere, corrected for foreshortening"),
    Column("umbra_msh", MSH, "umbral area (contrast under UMBRA_CONTRAST) on the sphere"),
    Column("penumbra_msh", MSH, "area_msh - umbra_msh"),
    Column("mean_contrast", None, "mean intensity over the quiet Sun at the same mu, as in the red continuum"),
    Column("hgs_lat_deg", u.deg, "Stonyhurst latitude of the centroid"),
    Column("hgs_lon_deg", u.deg, "Stonyhurst longitude of the centroid, from the central meridian seen from Earth"),
    Column("hgc_lat_deg", u.deg, "Carrington latitude of the centroid (observer Earth)"),
    Column("hgc_lon_deg", u.deg, "Carrington longitude of the centroid (observer Earth), 0-360"),
    Column("hpc_x_arcsec", u.arcsec, "helioprojective x (solar west) of the centroid"),
    Column("hpc_y_arcsec", u.arcsec, "helioprojective y (solar north) of the centroid"),
    Column("location", None, "NOAA location, e.g. N12W34: Stonyhurst latitude and longitude in whole degrees"),
    Column("lon_extent_deg", u.deg, "longitudinal extent, Stonyhurst, between the region's outermost pixels"),
    Column("spot_count", None, "number of spots as NOAA counts them: umbral cores, at least 1"),
    Column("obs_time", None, "observation time, ISO 8601 UTC; empty for an undated image"),
    Column("track_id", None, "reserved: the region's id across images, once tracked; empty"),
    Column("noaa_ar", None, "reserved: NOAA active-region number, once matched; empty"),
)
COLUMNS = [column.name for column in SCHEMA]
#: The columns that need the Sun placed in the sky (a dated image): NaN without a date.
SPHERE_COLUMNS = ["hgs_lat_deg", "hgs_lon_deg", "hgc_lat_deg", "hgc_lon_deg", "hpc_x_arcsec", "hpc_y_arcsec",
                  "lon_extent_deg"]


def on_sphere(image: SolarImage, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unit vectors (n, 3) of disk pixel positions on the solar sphere (z towards the observer)."""
    across, up = (x - image.disk.center_x) / image.disk.radius, (y - image.disk.center_y) / image.disk.radius
    return np.stack([across, up, np.sqrt(np.clip(1.0 - across**2 - up**2, 0.0, None))], axis=1)


def _edges(mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` with a neighbour outside it."""
    return mask & ~ndimage.binary_erosion(mask, structure=EIGHT_CONNECTED)


def label_regions(image: SolarImage, mask: np.ndarray, degrees: float = GROUP_DEGREES) -> tuple[np.ndarray, int]:
    """Label the mask's sunspot regions 1..n (0 elsewhere): spots (8-connected patches) closer than ``degrees``
    on the sphere share a label."""
    mask = mask.astype(bool)
    spots, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
    if count < 2:
        return spots, count
    # Distances are between spot edges, taken a cell at a time: a cell is one pixel (exact) unless there are
    # too many, when cells grow (spots sharing one are then grouped, an approximation for thousands of specks).
    ys, xs = np.nonzero(_edges(mask))
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


def catalog(image: SolarImage, mask: np.ndarray) -> pd.DataFrame:
    """The sunspot regions of ``mask`` on ``image``, one row per listed region.

    Parameters
    ----------
    image : SolarImage
        The image the mask is of; its disk and plate scale place each region on the sphere, its date in the sky.
    mask : numpy.ndarray
        Sunspot pixels (non-zero) on ``image``'s pixels.

    Returns
    -------
    pandas.DataFrame
        The columns of ``SCHEMA`` (docs/catalog.md): ``x``, ``y`` are 0-based pixel positions in the input's own
        coordinates (column, row; a picture's row 0 is its top row); latitudes and longitudes in degrees
        (``latitude_deg``/``longitude_deg`` are Stonyhurst, longitude from the central meridian); areas in
        MSH, corrected for foreshortening; positions on the sphere are NaN for an undated image; regions under
        ``MIN_AREA_MSH`` are left out.

    References
    ----------
    .. [1] NOAA/SWPC, Solar Region Summary: areas in millionths of the solar hemisphere (MSH), listed from
       10 MSH; location as N12W34; longitudinal extent; number of spots.
    """
    return listed_regions(image, mask)[1][COLUMNS]


def listed_regions(image: SolarImage, mask: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """The regions of ``mask`` labelled 1..n (``label_regions``) and the catalog of those listed, each row
    with its ``label`` in that array (regions under ``MIN_AREA_MSH`` keep a label but have no row)."""
    labels, count = label_regions(image, mask)
    table = _measure(image, labels, count)
    table = table[table["area_msh"] >= MIN_AREA_MSH].reset_index(drop=True)
    table = table.assign(region=np.arange(1, len(table) + 1), penumbra_msh=table["area_msh"] - table["umbra_msh"],
                         **_on_the_sphere(image, labels, table))
    table = table.assign(latitude_deg=table["hgs_lat_deg"], longitude_deg=table["hgs_lon_deg"],
                         location=[noaa_location(lat, lon) for lat, lon in zip(table["hgs_lat_deg"], table["hgs_lon_deg"])],
                         obs_time=image.date.isoformat(timespec="seconds") + "Z" if image.date else "",
                         # Filled by later steps (tracking across images, matching to NOAA's regions): empty now.
                         **{name: pd.array([pd.NA] * len(table), dtype="Int64") for name in ("track_id", "noaa_ar")})
    if image.rows_flipped:  # a picture's rows counted from its top, as it is shown
        table["y"] = image.data.shape[0] - 1 - table["y"]
    return labels, table[[*COLUMNS, "label"]]


def _measure(image: SolarImage, labels: np.ndarray, count: int) -> pd.DataFrame:
    """Per region 1..count: centroid (internal pixels, row 0 at the bottom), mean mu, areas, mean contrast and
    spot count, summed over the region pixels alone (a frame has few: no pass over the whole frame)."""
    ys, xs = np.nonzero(labels)
    label = labels[ys, xs]
    # An empty mask needs no flattening (the costliest step after the network), only the table's columns.
    contrast, mu = (plane[ys, xs] for plane in image.flattened()) if count else (np.zeros(0), np.zeros(0))
    # A pixel's true area on the sphere is its projected area / mu; mu is floored where the limb cut hides spots.
    sphere_area = 1.0 / np.maximum(mu, 0.05)
    to_msh = 1e6 / (2 * np.pi * image.disk.radius**2)
    umbra = contrast < UMBRA_CONTRAST

    def per_region(values: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(label, values, minlength=count + 1)[1:]

    pixels = per_region()
    x, y = _centroids(image, xs, ys, sphere_area, per_region)
    return pd.DataFrame({"label": np.arange(1, count + 1), "x": x, "y": y, "mu": per_region(mu) / pixels,
                         "area_px": pixels, "area_msh": per_region(sphere_area) * to_msh,
                         "umbra_msh": per_region(np.where(umbra, sphere_area, 0.0)) * to_msh,
                         "mean_contrast": per_region(contrast) / pixels,
                         "spot_count": _spot_counts(labels, ys, xs, umbra, count)})


def umbra_pixels(image: SolarImage, mask: np.ndarray) -> np.ndarray:
    """The umbra of a sunspot mask, as the catalog counts it: mask pixels darker than ``UMBRA_CONTRAST`` of
    the quiet Sun at their mu (as in the red continuum); the rest of the mask is penumbra."""
    return mask.astype(bool) & (image.flattened()[0] < UMBRA_CONTRAST)


def _centroids(image: SolarImage, xs: np.ndarray, ys: np.ndarray, sphere_area: np.ndarray, per_region) -> tuple:
    """Each region's centroid on the sphere, weighted by its pixels' true areas, as a pixel position: the
    direction of the area-weighted mean of its pixels' unit vectors. Unweighted, near the limb, the image
    centroid falls short of the region's middle towards disk centre (foreshortening squeezes the limb side
    into fewer pixels): 0.2 degrees for a round 1400 MSH region at mu 0.3, 0.8 for 5500 MSH at mu 0.35."""
    sums = np.stack([per_region(component) for component in (on_sphere(image, xs, ys) * sphere_area[:, None]).T], 1)
    centre = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return image.disk.center_x + image.disk.radius * centre[:, 0], image.disk.center_y + image.disk.radius * centre[:, 1]


def _spot_counts(labels: np.ndarray, ys: np.ndarray, xs: np.ndarray, umbra: np.ndarray, count: int) -> np.ndarray:
    """NOAA's number of spots (NN) per region, counted as its umbral cores: connected patches of umbra pixels
    (contrast under ``UMBRA_CONTRAST``), each a spot's dark heart however many share a penumbra. A region with
    no umbra (a pore, or a penumbra whose core seeing washed out) still counts 1, as NOAA counts a pore."""
    plane = np.zeros(labels.shape, bool)
    plane[ys[umbra], xs[umbra]] = True
    cores = ndimage.label(plane, structure=EIGHT_CONNECTED)[0][ys, xs]
    _, first = np.unique(cores, return_index=True)  # one pixel of each core (and of core 0, no core) ...
    first = first[cores[first] > 0]
    return np.maximum(np.bincount(labels[ys[first], xs[first]], minlength=count + 1)[1:], 1)  # ... names its region


def _on_the_sphere(image: SolarImage, labels: np.ndarray, table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ``SPHERE_COLUMNS`` of the listed regions of ``table``: their centroids in helioprojective, Stonyhurst
    and Carrington (Earth's view) coordinates, and their longitudinal extents. One sunpy transform per frame
    takes the centroids and the regions' edge pixels together: a longitude is extreme on a region's edge, so
    the edge alone gives the extent. All NaN without a date to place the Sun."""
    count = len(table)
    header = image.wcs_header()
    if "CTYPE1" not in header or count == 0:
        return {name: np.full(count, np.nan) for name in SPHERE_COLUMNS}
    import sunpy.map
    from sunpy.coordinates import frames

    edge_y, edge_x = np.nonzero(_edges(labels > 0))
    edge_label = labels[edge_y, edge_x]
    listed = np.isin(edge_label, table["label"])
    x = np.concatenate([table["x"], edge_x[listed]])
    y = np.concatenate([table["y"], edge_y[listed]])
    sky = sunpy.map.Map(image.data, header).pixel_to_world(x * u.pix, y * u.pix)
    stonyhurst = sky.transform_to(frames.HeliographicStonyhurst(obstime=sky.obstime))
    carrington = stonyhurst[:count].transform_to(frames.HeliographicCarrington(observer="earth", obstime=sky.obstime))
    edge_lon = pd.Series(stonyhurst.lon[count:].to_value(u.deg)).groupby(edge_label[listed])
    return {"hgs_lat_deg": stonyhurst.lat[:count].to_value(u.deg), "hgs_lon_deg": stonyhurst.lon[:count].to_value(u.deg),
            "hgc_lat_deg": carrington.lat.to_value(u.deg), "hgc_lon_deg": carrington.lon.to_value(u.deg),
            "hpc_x_arcsec": sky.Tx[:count].to_value(u.arcsec), "hpc_y_arcsec": sky.Ty[:count].to_value(u.arcsec),
            "lon_extent_deg": (edge_lon.max() - edge_lon.min()).reindex(table["label"]).to_numpy(float)}


def noaa_location(latitude_deg: float, longitude_deg: float) -> str:
    """NOAA's location of a region, e.g. ``N12W34``: Stonyhurst latitude north or south and longitude east or
    west of the central meridian, in whole degrees as the Solar Region Summary writes them; empty when unknown."""
    if not np.isfinite([latitude_deg, longitude_deg]).all():
        return ""
    lat, lon = round(latitude_deg), round(longitude_deg)
    return f"{'S' if lat < 0 else 'N'}{abs(lat):02d}{'E' if lon < 0 else 'W'}{abs(lon):02d}"


def as_qtable(table: pd.DataFrame) -> QTable:
    """The catalog as an astropy table with units, for physicists' tools.

    Parameters
    ----------
    table : pandas.DataFrame
        A catalog (``catalog``), in the columns of ``SCHEMA``; other columns are left out.

    Returns
    -------
    astropy.table.QTable
        Every column of ``SCHEMA`` with its description: quantities in their units (areas in ``MSH``, which
        converts to km^2; degrees; arcsec; pixels), ``obs_time`` an astropy ``Time`` (UTC; masked for an
        undated image), the reserved ``track_id``/``noaa_ar`` masked until a later step fills them. Written
        with ``write(path, format="ascii.ecsv")`` the file carries the units and descriptions, and
        ``QTable.read(path)`` reads them back (``MSH`` once this module is imported; docs/catalog.md says how
        without it).
    """
    qtable = QTable()
    for column in SCHEMA:
        values = table[column.name]
        if column.unit is not None:
            qtable[column.name] = values.to_numpy(float) * column.unit
        elif column.name == "obs_time":
            iso = values.to_numpy(str)
            qtable[column.name] = Time(np.ma.masked_array(iso, mask=iso == ""), format="isot", scale="utc")
        elif isinstance(values.dtype, pd.Int64Dtype):  # the reserved ids: masked where empty
            qtable[column.name] = MaskedColumn(values.to_numpy(np.int64, na_value=0), mask=values.isna().to_numpy())
        else:  # counts, ratios and text (as text, not the Python objects pandas holds it as)
            qtable[column.name] = values.to_numpy(str) if values.dtype == object else values.to_numpy()
        qtable[column.name].info.description = column.description
    return qtable


def summary(table: pd.DataFrame) -> dict:
    """Per-image figures: how many regions, their total area."""
    return {"regions": int(len(table)), "total_area_msh": float(table["area_msh"].sum()),
            "total_umbra_msh": float(table["umbra_msh"].sum())}
