"""``sunspotter predict``: full-disk images in; a mask FITS, an overlay PNG and a catalog out, per image.

A bad file gets a clear error and the rest of the batch is still processed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.io import fits

from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.io import atomic
from sunspotter.solar.analysis import analyse
from sunspotter.solar.solar_image import SolarImage, SolarImageError, read_solar_image

log = logging.getLogger(__name__)


def _stem(path: Path) -> str:
    """The file name without its type suffix (and .gz): outputs are named after their input."""
    return Path(path.name.removesuffix(".gz")).stem


def write_mask_fits(path: Path, image: SolarImage, mask: np.ndarray) -> None:
    """The mask in the input's own pixel layout, with its WCS (a picture's rows back in picture order)."""
    header = image.wcs_header()
    for key in ("NAXIS", "NAXIS1", "NAXIS2", "BITPIX"):
        header.remove(key, ignore_missing=True)
    header["CONTENT"] = ("sunspot mask", "1 = sunspot, 0 = not")
    header["SOURCE"] = (image.source.name[:68], "input image")
    data = mask[::-1] if image.rows_flipped else mask
    atomic.write_bytes(path, _fits_bytes(data.astype(np.uint8), header))


def _fits_bytes(data: np.ndarray, header: fits.Header) -> bytes:
    import io

    buffer = io.BytesIO()
    fits.PrimaryHDU(data=data, header=header).writeto(buffer)
    return buffer.getvalue()


def write_overlay(path: Path, image: SolarImage, mask: np.ndarray, table: pd.DataFrame, dust: np.ndarray) -> None:
    """The image with sunspot outlines (red), region numbers and the spots set aside as dust (cyan), in the
    picture's own orientation."""
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    origin = "upper" if image.rows_flipped else "lower"
    data, shown_mask, shown_dust = ((image.data[::-1], mask[::-1], dust[::-1]) if image.rows_flipped
                                    else (image.data, mask, dust))
    figure, axes = plt.subplots(figsize=(8, 8), dpi=100)
    low, high = np.percentile(data, [1, 99.8])
    axes.imshow(data, cmap="gray", origin=origin, vmin=low, vmax=high)
    axes.contour(shown_mask, levels=[0.5], colors="red", linewidths=0.6, origin=origin)
    if shown_dust.any():
        axes.contour(shown_dust.astype(np.uint8), levels=[0.5], colors="cyan", linewidths=0.6, origin=origin)
    for row in table.itertuples():
        axes.annotate(str(row.region), (row.x, row.y), xytext=(6, 6), textcoords="offset points", color="yellow",
                      fontsize=8)
    axes.set_title(f"{image.source.name}: {len(table)} sunspot regions, "
                   f"{table['area_msh'].sum() if len(table) else 0:.0f} MSH")
    axes.set_axis_off()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    atomic.write_bytes(path, buffer.getvalue())


def write_table(path: Path, table: pd.DataFrame) -> None:
    payload = table.to_parquet(index=False) if path.suffix == ".parquet" else table.to_csv(index=False).encode()
    atomic.write_bytes(path, payload)


def predict_one(model: FullDiskModel, path: Path, out_dir: Path, date: str | None, catalog_format: str) -> dict:
    """Run the model on one image and write its three outputs; return its summary row."""
    analysis = analyse(read_solar_image(path, date), model.segment)
    image, table = analysis.image, analysis.catalog
    stem = _stem(path)
    write_mask_fits(out_dir / f"{stem}.mask.fits", image, analysis.mask)
    write_overlay(out_dir / f"{stem}.overlay.png", image, analysis.mask, table, analysis.segmentation.dust)
    write_table(out_dir / f"{stem}.catalog.{catalog_format}", table.assign(image=path.name))
    return {"image": path.name, "date": image.date.isoformat() if image.date else "",
            "radius_px": round(image.disk.radius, 2), "arcsec_per_px": round(image.arcsec_per_px, 4)} \
        | analysis.summary()


def predict_files(model: FullDiskModel, paths: list[Path], out_dir: Path, date: str | None = None,
                  catalog_format: str = "csv") -> tuple[pd.DataFrame, dict[str, str]]:
    """Detect the sunspots of every image and write its mask FITS, overlay PNG and catalog into ``out_dir``.

    Parameters
    ----------
    model : FullDiskModel
        The localizer, as ``lifecycle.pyfunc.load_full_disk_model`` gives it.
    paths : list of pathlib.Path
        Image files: FITS (PSPT or with a helioprojective WCS), JPEG 2000 or pictures.
    out_dir : pathlib.Path
        Where the outputs go, named after each input.
    date : str, optional
        ISO date for inputs that do not say when they were taken (it sets the Sun's apparent size).
    catalog_format : {"csv", "parquet"}
        The catalog's file format.

    Returns
    -------
    summary : pandas.DataFrame
        One row per image read: its disk radius, plate scale, region count and areas (MSH).
    errors : dict of str to str
        For each file that could not be used, the one-line reason; the other files are still done.
    """
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    rows, errors = [], {}
    for path in tqdm([Path(p) for p in paths], desc="predict", unit="image", disable=len(paths) < 2):
        try:
            rows.append(predict_one(model, path, out_dir, date, catalog_format))
        except SolarImageError as err:
            errors[str(path)] = str(err)
            log.error("%s", err)
    summary = pd.DataFrame(rows)
    if rows:
        write_table(out_dir / f"summary.{catalog_format}", summary)
    return summary, errors
