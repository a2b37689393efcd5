"""HMI-like FITS files for tests: a synthetic frame as JSOC, VSO or Fido deliver an SDO/HMI continuum image.

What makes such a file hard to read, all of it here: the image is tile-compressed (RICE) in HDU 1 behind an
empty primary; it is stored south up (CROTA2 = 180, the array turned half a turn); it has a helioprojective
WCS (HPLN-TAN/HPLT-TAN in arcsec, CDELT, CRPIX, CRVAL, DATE-OBS, DSUN_OBS, RSUN_OBS, HGLN_OBS/HGLT_OBS) and
HMI's keys (WAVELNTH 6173 angstrom, CONTENT, BUNIT); the sky is blank, as BLANK in scaled int16
(BSCALE/BZERO) or as NaN in float32.

Usage::

    data, header = pspt.read_fits(tiny_archive / "20140102.1800.HW.R.P.rdc.fits.gz")
    write_hmi_like(tmp_path / "hmi.fits", data, SolarDisk.from_header(header), datetime(2014, 1, 2, 18))
    # or, from a PSPT file in one go:
    hmi_like_from_pspt(tiny_archive / "20140102.1800.HW.R.P.rdc.fits.gz", tmp_path / "hmi.fits.fz")

A file read back (``read_solar_image``) has the disk ``stored_disk`` gives, the same radius as the frame's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits

from sunspotter.io import pspt
from sunspotter.solar.disk import SolarDisk

#: HMI's continuum: Fe I 6173 angstrom.
HMI_WAVELENGTH_A = 6173.0
#: The int16 value that marks a blank (off-disk) pixel.
BLANK = -32768


def stored_disk(disk: SolarDisk, shape: tuple[int, int], rotated: bool = True) -> SolarDisk:
    """The disk of a north-up frame of ``shape`` in the file's own pixels: turned half a turn when ``rotated``."""
    if not rotated:
        return disk
    return SolarDisk(shape[1] - 1 - disk.center_x, shape[0] - 1 - disk.center_y, disk.radius)


def write_hmi_like(path: Path, data: np.ndarray, disk: SolarDisk, date: dt.datetime, kind: str = "int",
                   rotated: bool = True, keys: dict | None = None) -> Path:
    """Write a north-up frame as an HMI-like file (see the module's docstring) and return ``path``.

    Parameters
    ----------
    path : pathlib.Path
        Where to write it, as plain (not gzipped) FITS: name it ``.fits`` or ``.fits.fz``.
    data : numpy.ndarray
        The frame, solar north up, row 0 at the bottom (as ``pspt.read_fits`` gives a PSPT frame).
    disk : SolarDisk
        The disk on ``data``'s pixels; pixels off it are written blank.
    date : datetime.datetime
        When it was observed: DATE-OBS, and the observer's distance, B0 and apparent solar radius for it.
    kind : {"int", "float"}
        Scaled int16 (BSCALE, BZERO) with BLANK off the disk, or float32 with NaN there.
    rotated : bool
        Stored south up with CROTA2 = 180, as HMI does (the default), or north up with CROTA2 = 0.
    keys : dict, optional
        Header keys to add or replace, e.g. ``{"CONTENT": "MAGNETOGRAM", "BUNIT": "Gauss"}``.
    """
    from sunpy.coordinates import sun

    frame = np.asarray(data, dtype=np.float64)
    blank = disk.mu(frame.shape) <= 0
    if rotated:
        frame, blank = np.rot90(frame, 2), np.rot90(blank, 2)
    rsun_arcsec = float(sun.angular_radius(date).to_value(u.arcsec))
    header = _header(stored_disk(disk, frame.shape, rotated), date, rsun_arcsec / disk.radius, rsun_arcsec, rotated)
    header.update(keys or {})
    image = _scaled_int16(frame, blank, header) if kind == "int" else _float32(frame, blank, header)
    fits.HDUList([fits.PrimaryHDU(), image]).writeto(path, overwrite=True)
    return Path(path)


def hmi_like_from_pspt(pspt_path: Path, path: Path, kind: str = "int", rotated: bool = True) -> Path:
    """``write_hmi_like`` of a PSPT frame (its disk from CENTER_X, CENTER_Y, RADIUS, its date from DATE_OBS)."""
    data, header = pspt.read_fits(pspt_path)
    date = dt.datetime.fromisoformat(header["DATE_OBS"])
    return write_hmi_like(path, data, SolarDisk.from_header(header), date, kind, rotated)


def _header(disk: SolarDisk, date: dt.datetime, arcsec_per_px: float, rsun_arcsec: float, rotated: bool) -> fits.Header:
    from sunpy.coordinates import sun

    header = fits.Header()
    header["TELESCOP"], header["INSTRUME"] = "SDO/HMI", "HMI_SIDE1"
    header["CONTENT"], header["BUNIT"] = "CONTINUUM INTENSITY", "DN/s"
    header["DATE-OBS"] = date.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    header["WAVELNTH"], header["WAVEUNIT"] = HMI_WAVELENGTH_A, "angstrom"
    for axis, ctype, crpix in ((1, "HPLN-TAN", disk.center_x + 1), (2, "HPLT-TAN", disk.center_y + 1)):
        header[f"CTYPE{axis}"], header[f"CUNIT{axis}"] = ctype, "arcsec"
        header[f"CRPIX{axis}"], header[f"CRVAL{axis}"], header[f"CDELT{axis}"] = crpix, 0.0, arcsec_per_px
    header["CROTA2"] = 180.0 if rotated else 0.0
    header["DSUN_OBS"] = float(sun.earth_distance(date).to_value(u.m))
    header["RSUN_OBS"], header["RSUN_REF"] = rsun_arcsec, 696000000.0
    header["HGLN_OBS"], header["HGLT_OBS"] = 0.0, float(sun.B0(date).to_value(u.deg))
    return header


def _scaled_int16(frame: np.ndarray, blank: np.ndarray, header: fits.Header) -> fits.CompImageHDU:
    """Scaled int16, the disk's range over 60000 steps, BLANK off the disk."""
    low, high = float(frame[~blank].min()), float(frame[~blank].max())
    image = fits.CompImageHDU(np.where(blank, low, frame), header, compression_type="RICE_1")
    image.scale("int16", bscale=max(high - low, 1.0) / 60000.0, bzero=(high + low) / 2)
    image.data[blank] = BLANK  # after scaling, the array holds the stored integers
    image.header["BLANK"] = BLANK
    return image


def _float32(frame: np.ndarray, blank: np.ndarray, header: fits.Header) -> fits.CompImageHDU:
    return fits.CompImageHDU(np.where(blank, np.nan, frame).astype(np.float32), header, compression_type="RICE_1")
