"""``sunspotter predict``: full-disk images in (files or folders); per image a mask FITS, an overlay PNG and a
catalog out, and for the batch a summary table, a plot of sunspot area and region count against date, and a
contact sheet (``index.html``) of the overlays.

A bad file gets one clear error and the rest of the batch is still processed. Outputs are named after their
input (``<stem>.mask.fits``, ``.overlay.png``, ``.catalog.<format>``), in the input's subfolder of a folder
given; two inputs never write the same outputs (see ``output_bases``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sunspotter.fulldisk import outputs
from sunspotter.fulldisk.contact_sheet import write_contact_sheet
from sunspotter.fulldisk.detection import Detection, detect_image
from sunspotter.fulldisk.inference import FullDiskModel
from sunspotter.fulldisk.overlay import save_figure, write_overlay
from sunspotter.solar.solar_image import FITS_SUFFIXES, JP2_SUFFIXES, SolarImageError, read_solar_image

#: Files a folder is searched for: every kind ``read_solar_image`` reads.
IMAGE_SUFFIXES = (*FITS_SUFFIXES, *JP2_SUFFIXES, ".png", ".jpg", ".jpeg", ".tif", ".tiff")
#: Suffixes that only say how a file is compressed; the one before them says what it is.
COMPRESSION_SUFFIXES = (".gz", ".fz", ".bz2")
#: What ``predict`` writes per image, after the input's stem; a folder's search skips these.
OUTPUT_SUFFIXES = (".mask.fits", ".overlay.png")


@dataclass(frozen=True)
class Batch:
    """What one ``predict`` call did: a summary row per image done, one error per file refused."""

    summary: pd.DataFrame
    errors: dict[str, str]
    skipped: list[str]  # inputs whose outputs the same model had already made (``skip_existing``)


def find_images(paths: list[Path], recursive: bool = False, out_dir: Path | None = None) -> dict[Path, Path]:
    """Each file given and each image in each folder given, once, with the subfolder its outputs go to (a
    folder's own subfolders; none for a file given). A folder's hidden files, this command's own outputs and
    anything under ``out_dir`` are left out."""
    skip = out_dir.resolve() if out_dir is not None else None
    found = {}
    for path in map(Path, paths):
        if not path.is_dir():
            found.setdefault(path, Path())  # a missing file is reported by the reader, with the others
            continue
        for file in sorted(path.rglob("*") if recursive else path.glob("*")):
            relative = file.relative_to(path)
            if (file.is_file() and file.name.lower().endswith(IMAGE_SUFFIXES)
                    and not any(part.startswith(".") for part in relative.parts)
                    and not file.name.endswith(OUTPUT_SUFFIXES)
                    and (skip is None or skip not in file.resolve().parents)):
                found.setdefault(file, relative.parent)
    return found


def _stem(name: str) -> str:
    """The name without compression suffixes and its type suffix: ``a.fits.gz`` -> ``a``."""
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    return Path(name).stem


def output_bases(images: dict[Path, Path]) -> dict[Path, Path]:
    """Each image's outputs' path without suffix, relative to the output folder: its subfolder and stem.
    Images that would share one keep their whole names (``a.png``, ``a.jpg``), and if still shared (one
    name in two folders given as files), the folders that tell them apart, so distinct inputs never collide."""
    def colliding(bases: dict[Path, Path]) -> set[Path]:
        counts = {}
        for base in bases.values():
            counts[base] = counts.get(base, 0) + 1
        return {image for image, base in bases.items() if counts[base] > 1}

    bases = {image: sub / _stem(image.name) for image, sub in images.items()}
    for image in colliding(bases):
        bases[image] = images[image] / image.name
    clashing = colliding(bases)
    if clashing:
        common = Path(os.path.commonpath([image.resolve().parent for image in clashing]))
        for image in clashing:
            bases[image] = images[image] / image.resolve().relative_to(common)
    return bases


def write_outputs(detection: Detection, base: Path, input_name: str, catalog_format: str) -> None:
    """The mask FITS, the overlay and the catalog of one detection, at ``base`` + their suffixes."""
    base.parent.mkdir(parents=True, exist_ok=True)
    analysis = detection.analysis
    write_overlay(Path(f"{base}.overlay.png"), detection.image, analysis.mask, analysis.catalog,
                  analysis.segmentation.dust)
    outputs.write_catalog(Path(f"{base}.catalog.{catalog_format}"), detection, input_name)
    # The mask last: its provenance is what ``skip_existing`` trusts, so it exists only beside the others.
    outputs.write_mask_fits(Path(f"{base}.mask.fits"), detection, input_name)


def summary_row(detection: Detection, input_name: str) -> dict:
    image = detection.image
    return {"image": input_name, "date": image.date.isoformat() if image.date else "",
            "radius_px": round(image.disk.radius, 2), "arcsec_per_px": round(image.arcsec_per_px, 4)} \
        | detection.summary()


def predict_files(model: FullDiskModel, paths: list[Path], out_dir: Path, date: str | None = None,
                  catalog_format: str = "csv", *, recursive: bool = False, skip_existing: bool = False,
                  model_name: str = "a model loaded by the caller") -> Batch:
    """Detect the sunspots of every image and write its mask FITS, overlay PNG and catalog into ``out_dir``.

    Parameters
    ----------
    model : FullDiskModel
        The localizer (``lifecycle.model_source.load`` gives it with its ``model_name``).
    paths : list of pathlib.Path
        Image files (FITS, ``.fits.fz``, JPEG 2000, pictures) and folders of them.
    out_dir : pathlib.Path
        Where the outputs go, in each input's subfolder of a folder given.
    date : str, optional
        ISO date for inputs that do not say when they were taken (it sets the Sun's apparent size).
    catalog_format : {"csv", "ecsv", "parquet"}
        The catalogs' file format; ECSV carries the units.
    recursive : bool
        Search folders' subfolders too.
    skip_existing : bool
        Leave an image alone when its outputs exist and its mask records this same model.
    model_name : str
        What the mask's provenance calls the model.

    Returns
    -------
    Batch
        A summary row per image done (radius, plate scale, regions, areas in MSH), a one-line reason per
        file that could not be used, and the images skipped.
    """
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    images = find_images(paths, recursive, out_dir)
    bases = output_bases(images)
    fingerprint = model.fingerprint()
    rows, errors, skipped, overlays = [], {}, [], {}
    for image_path in tqdm(images, desc="predict", unit="image", disable=len(images) < 2):
        base = out_dir / bases[image_path]
        if skip_existing and outputs.made_by(Path(f"{base}.mask.fits"), fingerprint):
            skipped.append(str(image_path))
            continue
        try:
            detection = detect_image(read_solar_image(image_path, date), model, model_name, fingerprint)
        except SolarImageError as err:
            errors[str(image_path)] = str(err)
            continue
        write_outputs(detection, base, image_path.name, catalog_format)
        shown_name = str(bases[image_path].parent / image_path.name)
        rows.append(summary_row(detection, shown_name))
        overlays[shown_name] = f"{bases[image_path]}.overlay.png"
    summary = pd.DataFrame(rows)
    if rows:
        outputs.write_table(out_dir / f"summary.{'parquet' if catalog_format == 'parquet' else 'csv'}", summary)
        write_summary_plot(out_dir / "summary.png", summary)
    write_contact_sheet(out_dir, summary, overlays, errors, model_name)
    return Batch(summary, errors, skipped)


def write_summary_plot(path: Path, summary: pd.DataFrame) -> None:
    """Total sunspot area (MSH) and region count against date, for the batch's dated images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dated = summary[summary["date"] != ""].assign(when=lambda rows: pd.to_datetime(rows["date"])).sort_values("when")
    figure, (area, count) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, dpi=100)
    area.plot(dated["when"], dated["total_area_msh"], "o-", color="tab:red", markersize=3)
    area.set_ylabel("total sunspot area (MSH)")
    count.plot(dated["when"], dated["regions"], "o-", color="tab:blue", markersize=3)
    count.set_ylabel("sunspot regions")
    count.set_xlabel("observation date (UTC)")
    undated = int((summary["date"] == "").sum())
    area.set_title(f"{len(dated)} images" + (f" ({undated} undated, not shown)" if undated else ""))
    count.yaxis.get_major_locator().set_params(integer=True)
    figure.autofmt_xdate()
    save_figure(figure, path)
