"""The files one detection is written to: the mask FITS with its provenance, and the catalog.

The mask is tile-compressed (RICE) in HDU 1, as HMI and fpack write images; the project's own reader
(``io.pspt.read_fits``) and any FITS reader open it. Its header says where it came from: the input, the
model (URI, version, fingerprint), the threshold and edge cuts, the sunspotter version and the date.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
from astropy.io import fits

from sunspotter.fulldisk.detection import Detection
from sunspotter.io import atomic, pspt
from sunspotter.version import VERSION

#: Catalog file formats: ECSV carries the units in the file; CSV and Parquet hold plain numbers.
CATALOG_FORMATS = ("csv", "ecsv", "parquet")
#: The header key that records which model made a mask (``predict --skip-existing`` compares it).
MODEL_KEY = "MODELSHA"


def provenance(detection: Detection, input_name: str) -> fits.Header:
    """The header cards that say how a mask was made."""
    header = fits.Header()
    header["CONTENT"] = ("sunspot mask", f"PSPT codes: {pspt.UMBRA} umbra, {pspt.PENUMBRA} penumbra, 0 neither")
    # No comments on the two long values: astropy continues a long string on CONTINUE cards, not its comment.
    header["INPUT"] = input_name
    header["MODEL"] = detection.model
    header[MODEL_KEY] = (detection.fingerprint, "hash of its weights and settings")
    header["THRESH"] = (detection.threshold, "sunspot where probability >= this")
    grow, trim = detection.edge_cuts
    header["EDGEGROW"] = ("none" if grow is None else grow, "edges.refine: grow below this contrast")
    header["EDGETRIM"] = ("none" if trim is None else trim, "edges.refine: trim above this contrast")
    header["CREATOR"] = (f"sunspotter {VERSION}", "software that wrote this file")
    header["DATE"] = (dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"), "file creation date (UTC)")
    return header


def write_mask_fits(path: Path, detection: Detection, input_name: str) -> None:
    """The PSPT-coded mask on the input's own pixels, with its WCS and provenance, tile-compressed."""
    header = detection.image.wcs_header()
    for key in ("NAXIS", "NAXIS1", "NAXIS2", "BITPIX", "SIMPLE", "EXTEND"):
        header.remove(key, ignore_missing=True)
    header.update(provenance(detection, input_name))
    # A picture's rows are written in its own order; its WCS (if dated) is for FITS order, so it is left out.
    data = detection.codes
    if detection.image.rows_flipped:
        header = fits.Header([card for card in header.cards if not _is_wcs_key(card.keyword)])
    compressed = fits.CompImageHDU(data=data, header=header, compression_type="RICE_1")
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), compressed]).writeto(buffer, output_verify="fix")
    atomic.write_bytes(path, buffer.getvalue())


def _is_wcs_key(key: str) -> bool:
    return key.startswith(("CTYPE", "CUNIT", "CRPIX", "CRVAL", "CDELT", "CROTA", "PC", "WCSAXES", "LONPOLE",
                           "LATPOLE", "RSUN", "DSUN", "HGLN", "HGLT", "DATE-OBS", "MJDREF", "CENTER_", "RADIUS"))


def made_by(path: Path, fingerprint: str) -> bool:
    """Whether the mask at ``path`` exists and records the model with this fingerprint."""
    if not path.is_file():
        return False
    try:
        return pspt.read_header(path).get(MODEL_KEY) == fingerprint
    except pspt.PSPTFileError:
        return False  # an unreadable old output is remade


def write_catalog(path: Path, detection: Detection, input_name: str) -> None:
    """The catalog in the format ``path``'s suffix names; ECSV keeps each column's unit."""
    if path.suffix == ".ecsv":
        table = detection.regions.copy()
        table["image"] = [input_name] * len(table)
        buffer = io.StringIO()
        table.write(buffer, format="ascii.ecsv")
        atomic.write_bytes(path, buffer.getvalue().encode())
    else:
        write_table(path, detection.catalog.assign(image=input_name))


def write_table(path: Path, table: pd.DataFrame) -> None:
    """A DataFrame as CSV, or Parquet when ``path`` ends in .parquet."""
    payload = table.to_parquet(index=False) if path.suffix == ".parquet" else table.to_csv(index=False).encode()
    atomic.write_bytes(path, payload)
