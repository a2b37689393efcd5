"""Any full-disk solar image in, one ``SolarImage`` out: pixels, disk geometry, date and plate scale.

Three kinds of input, told apart by what they carry:

- a PSPT FITS file (``CENTER_X``/``CENTER_Y``/``RADIUS`` keys): geometry from the header;
- any other FITS or JPEG2000 with solar WCS (HMI, GONG, Helioviewer JP2): through ``sunpy.map``;
- a plain picture (JPG, PNG, ...): the disk is fitted (see ``disk_fit``) and the plate scale is the
  apparent solar radius on ``date`` (the yearly mean if none) over the fitted radius.

A FITS or JPEG2000 whose header shows it is not white light (a magnetogram, an EUV image) is refused
(``check_white_light``); ``from_map`` takes a sunpy map made in memory.

Internally every image is stored FITS-style, row 0 at the bottom (solar north up for an upright picture);
``rows_flipped`` says when a picture's rows were reversed to get there, so positions can be reported in the
picture's own coordinates. A FITS image keeps its own pixels whatever its WCS's rotation (HMI's CROTA2 = 180):
its WCS places every position.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits

from sunspotter.io import pspt
from sunspotter.solar.disk import SolarDisk
from sunspotter.solar.disk_fit import DiskFitError, fit_disk

#: FITS by name: plain, gzipped, or fpacked (``.fz``: tile-compressed, as ``.fits.fz`` from fpack).
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fz")
JP2_SUFFIXES = (".jp2", ".j2k", ".jpx")
#: Mean apparent solar radius over a year, for pictures with no date (Earth at 1 AU).
MEAN_RADIUS_ARCSEC = 959.63
#: Refuse inputs bigger than this many pixels before reading them (a header can claim anything).
MAX_PIXELS = pspt.MAX_PIXELS
#: The continuum every contrast is expressed at: PSPT's red, where the models were trained and the catalog's
#: umbra cut is set.
RED_CONTINUUM_NM = pspt.WAVELENGTH_NM["R"]
#: Continuum wavelengths whose contrasts are converted to the red one; outside (Ca II K at 393 nm, EUV, ...)
#: the image is not continuum light and its contrasts are left as they are.
CONTINUUM_NM = (400.0, 1100.0)


def as_red_contrast(contrast: np.ndarray, wavelength_nm: float | None) -> np.ndarray:
    """Contrasts to the quiet Sun measured at ``wavelength_nm`` as they are in the red continuum.

    In Wien's limit a feature of brightness temperature T against the quiet Sun's T0 has contrast
    exp(-(c2 / lambda) (1/T - 1/T0)), so the contrast at one wavelength is the contrast at another raised to
    the ratio of the wavelengths. A spot is darker in blue light (an umbra of 0.3 in the red is 0.17 at
    409 nm) and paler in the near infrared; converted, the same spot has the same contrast whatever the
    filter.

    Parameters
    ----------
    contrast : numpy.ndarray
        Intensity over the local quiet Sun at ``wavelength_nm`` (0 off the disk, left as it is).
    wavelength_nm : float or None
        The image's continuum wavelength in nm; None, or a wavelength outside ``CONTINUUM_NM`` (Ca II K,
        EUV), leaves ``contrast`` unchanged.

    Returns
    -------
    numpy.ndarray
        The contrast as it would be at ``RED_CONTINUUM_NM`` (607.1 nm).

    References
    ----------
    .. [1] Wien's approximation to Planck's law, c2 = hc/k = 1.4388e7 nm K (CODATA 2018); see docs/PSPT.md,
       "Other wavelengths".
    """
    if wavelength_nm is None or not CONTINUUM_NM[0] <= wavelength_nm <= CONTINUUM_NM[1] \
            or abs(wavelength_nm - RED_CONTINUUM_NM) < 0.05:
        return contrast
    exponent = np.float32(wavelength_nm / RED_CONTINUUM_NM)
    return np.where(contrast > 0, np.power(np.maximum(contrast, 1e-6), exponent), contrast).astype(np.float32)


class SolarImageError(ValueError):
    """An input that cannot be used as a full-disk solar image; the message names the file and the reason."""


#: CONTENT words of maps that are not intensity: HMI's magnetograms, dopplergrams and line parameters (its
#: continuum says 'CONTINUUM INTENSITY').
NOT_INTENSITY_CONTENT = ("MAGNETOGRAM", "DOPPLERGRAM", "VELOCITY", "LINEWIDTH", "LINEDEPTH")
#: Shorter than this the Sun is imaged in UV and EUV light (AIA 94-1700 A, EIT, SUVI, EUI): the transition
#: region and corona, where spots are not the dark patches of a limb-darkened disk.
MIN_WHITE_LIGHT_NM = 300.0
#: Chromospheric lines full-disk filtergrams are taken in (nm), and how near a filter's centre counts as in one.
#: Ca II K (393.4 nm) is left out on purpose: see ``check_white_light``.
CHROMOSPHERIC_LINES_NM = {"Ca II H": 396.85, "H-alpha": 656.28}
LINE_HALF_WIDTH_NM = 0.5


def check_white_light(header, wavelength_nm: float | None, source) -> None:
    """Refuse an image whose header shows it is not white light, nor anything a model here can learn from.

    The models and thresholds here are made on PSPT's filters, where a spot is a dark patch on a
    limb-darkened disk; in a magnetogram, an EUV image or an H-alpha filtergram it is not, and the
    detections would be noise that looks like an answer. The rules, each read from the header alone:

    - CONTENT names a magnetic, velocity or line-shape map (``NOT_INTENSITY_CONTENT``): HMI says what each
      of its products holds there.
    - BUNIT is a magnetic flux density (Gauss, G, Mx cm-2, T) or a velocity (m/s): a magnetogram or
      dopplergram whatever else the header says.
    - The wavelength is below ``MIN_WHITE_LIGHT_NM``: UV and EUV (AIA 171 A is 17.1 nm).
    - The wavelength is within ``LINE_HALF_WIDTH_NM`` of a chromospheric line (``CHROMOSPHERIC_LINES_NM``):
      filaments are dark and plage bright all over the disk.

    PSPT's red (607.1 nm) and blue (409.4 nm) continuum and HMI's continuum (6173 A) pass. So does PSPT's
    Ca II K (393.4 nm), though it is a chromospheric line: ``tile.channels`` may be ``[K]``, and then the
    dust_map and evaluate stages and the K-trained model's full-disk inference read K frames through here.
    Whether a frame's filter is the one a model was trained on is for the model to say (its tiles'
    channels), not for the header of the frame.

    Parameters
    ----------
    header : astropy.io.fits.Header or dict-like
        The image's header (a sunpy map's ``meta`` will do).
    wavelength_nm : float or None
        The header's wavelength in nm, read in its own unit (WAVEUNIT; sunpy knows instruments' defaults);
        None when unknown.
    source : str or pathlib.Path
        The file (or the map's name) for the message.

    Raises
    ------
    SolarImageError
        One line naming ``source`` and what its header says.
    """
    content = str(header.get("CONTENT", "")).strip()
    if any(word in content.upper() for word in NOT_INTENSITY_CONTENT):
        raise SolarImageError(f"{source}: not a white-light image: its header says CONTENT = {content!r}")
    unit = _unit(header.get("BUNIT"))
    if unit is not None and (unit.is_equivalent(u.G) or unit.is_equivalent(u.m / u.s)):
        raise SolarImageError(f"{source}: not a white-light image: its header says BUNIT = {header.get('BUNIT')!r}, "
                              f"a magnetic field or a velocity (a magnetogram or dopplergram)")
    if wavelength_nm is None:
        return
    if wavelength_nm < MIN_WHITE_LIGHT_NM:
        raise SolarImageError(f"{source}: not a white-light image: its header says {_wavelength_text(header)}, "
                              f"{wavelength_nm:g} nm, UV or EUV (white light is above {MIN_WHITE_LIGHT_NM:g} nm)")
    for line, centre_nm in CHROMOSPHERIC_LINES_NM.items():
        if abs(wavelength_nm - centre_nm) <= LINE_HALF_WIDTH_NM:
            raise SolarImageError(f"{source}: not a white-light image: its header says {_wavelength_text(header)}, "
                                  f"{line} ({centre_nm:g} nm), a chromospheric line")


def _wavelength_text(header) -> str:
    unit = header.get("WAVEUNIT")
    return f"WAVELNTH = {header.get('WAVELNTH')!r}" + (f" {unit}" if unit else "")


def _unit(text) -> u.UnitBase | None:
    """A header's unit string as astropy reads it (case aside), or None when it names no unit astropy knows."""
    if not isinstance(text, str) or not text.strip():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy warns of units the FITS standard discourages, and reads them
        for candidate in (text.strip(), text.strip().lower()):
            unit = u.Unit(candidate, parse_strict="silent")
            if not isinstance(unit, u.UnrecognizedUnit):
                return unit
    return None


def header_wavelength_nm(header) -> float | None:
    """WAVELNTH in nm: in WAVEUNIT when the header gives one, else in nm, the PSPT archive's convention; None
    when there is none or its unit is not a length."""
    value = header.get("WAVELNTH")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    if not header.get("WAVEUNIT"):
        return float(value)
    unit = _unit(header.get("WAVEUNIT"))
    return float((value * unit).to_value(u.nm)) if unit is not None and unit.is_equivalent(u.nm) else None


@dataclass
class SolarImage:
    """A full-disk image with its geometry; positions are 0-based (x = column, y = row, row 0 at the bottom)."""

    data: np.ndarray  # float32, 2-D
    disk: SolarDisk
    arcsec_per_px: float
    date: dt.datetime | None
    source: Path
    rows_flipped: bool = False  # a picture whose rows were reversed to put row 0 at the bottom
    wavelength_nm: float | None = None  # the continuum it was taken in, when it says (FITS); None for pictures
    header: fits.Header = field(default_factory=fits.Header)  # the input's own header (FITS inputs)
    _flattened: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def flattened(self) -> tuple[np.ndarray, np.ndarray]:
        """(contrast to the quiet Sun at each pixel's mu, as in the red continuum (``as_red_contrast``); mu),
        computed once: inference and the catalog's umbra split and areas all need it, and it is the costliest
        step after the network."""
        if self._flattened is None:
            from sunspotter.solar.classical import flatten

            flat, mu = flatten(self.data, self.disk)
            self._flattened = as_red_contrast(flat, self.wavelength_nm), mu
        return self._flattened

    def wcs_header(self) -> fits.Header:
        """A helioprojective WCS for the image: the input's own if it had one, else built from the fitted
        or recorded disk (solar north up, Earth's view on ``date``); just the disk keys when there is no date."""
        if "CTYPE1" in self.header:
            return fits.Header(self.header)
        if self.date is None:
            return self.disk.to_header()
        import sunpy.map
        from astropy.coordinates import SkyCoord
        from sunpy.coordinates import frames

        centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, obstime=self.date, observer="earth",
                          frame=frames.Helioprojective)
        header = sunpy.map.make_fitswcs_header(self.data.shape, centre,
                                               reference_pixel=[self.disk.center_x, self.disk.center_y] * u.pix,
                                               scale=[self.arcsec_per_px] * 2 * u.arcsec / u.pix)
        return fits.Header(header) + self.disk.to_header()


def apparent_radius_arcsec(date: dt.datetime | None) -> float:
    """The Sun's apparent radius seen from Earth.

    Parameters
    ----------
    date : datetime.datetime or None
        When the image was taken; None for an undated picture.

    Returns
    -------
    float
        Angular radius in arcsec from sunpy's ephemeris on ``date``; ``MEAN_RADIUS_ARCSEC`` (959.63, the
        radius at 1 AU) when there is no date.

    References
    ----------
    .. [1] ``sunpy.coordinates.sun.angular_radius``, from the photospheric radius (IAU 2015 Resolution B3)
       and the Earth-Sun distance of the JPL ephemeris.
    """
    if date is None:
        return MEAN_RADIUS_ARCSEC
    from sunpy.coordinates import sun

    return float(sun.angular_radius(date).to_value("arcsec"))


def _parse_date(text: str | None, path: Path) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(str(text).strip().replace("Z", "")).replace(tzinfo=None)
    except ValueError as err:
        raise SolarImageError(f"{path}: date {text!r} is not an ISO date (YYYY-MM-DD[THH:MM:SS])") from err


def _check_size(shape, path: Path) -> None:
    if len(shape) != 2 or min(shape) < 16:
        raise SolarImageError(f"{path}: expected one 2-D image of at least 16 x 16 pixels, got shape {tuple(shape)}")
    if shape[0] * shape[1] > MAX_PIXELS:
        raise SolarImageError(f"{path}: {shape[0]} x {shape[1]} pixels is more than the {MAX_PIXELS} allowed")


def _read_pspt(path: Path, data: np.ndarray, header: fits.Header) -> SolarImage:
    wavelength = header_wavelength_nm(header)
    check_white_light(header, wavelength, path)
    disk = SolarDisk.from_header(header)
    date = _parse_date(header.get("DATE_OBS"), path)
    return SolarImage(data.astype(np.float32), disk, apparent_radius_arcsec(date) / disk.radius, date, path,
                      header=header, wavelength_nm=wavelength)


def from_map(smap, source: str | Path) -> SolarImage:
    """A SolarImage from a sunpy map, with no file: for maps made or fetched in memory.

    The pixels stay as the map stores them, whatever its orientation (HMI's south-up CROTA2 = 180, any PC
    matrix): the map's WCS, kept in ``SolarImage.header``, places every position.

    Parameters
    ----------
    smap : sunpy.map.GenericMap
        A full-disk image with a helioprojective WCS and an observer.
    source : str or pathlib.Path
        Where the map came from (a file, or a name for a map made in memory), for messages and outputs.

    Returns
    -------
    SolarImage
        Pixels as float32 with blank (NaN) pixels set to 0; the disk centre where the WCS puts the Sun's
        centre, its radius the map's apparent solar radius (RSUN_OBS, or from the observer's distance) over
        the plate scale; the date and wavelength of the map.

    Raises
    ------
    SolarImageError
        The map is not 2-D, is not white light (``check_white_light``), its WCS places no solar disk in
        the image, or every pixel is blank.
    """
    from astropy.coordinates import SkyCoord

    source = Path(source)
    if smap.data.ndim != 2:
        raise SolarImageError(f"{source}: expected a 2-D image, got {smap.data.ndim} dimensions")
    wavelength = _wavelength_nm(smap)
    check_white_light(smap.meta, wavelength, source)
    centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=smap.coordinate_frame)
    cx, cy = (float(v.to_value(u.pix)) for v in smap.world_to_pixel(centre))
    scale = abs(float(smap.scale.axis1.to_value(u.arcsec / u.pix)))
    radius = float(smap.rsun_obs.to_value(u.arcsec)) / scale
    if not (np.isfinite([cx, cy, radius]).all() and radius > 8):
        raise SolarImageError(f"{source}: its WCS does not place a solar disk in the image")
    date = smap.date.to_datetime() if smap.date is not None else None
    header = fits.Header(smap.wcs.to_header())
    return _with_finite_pixels(SolarImage(np.asarray(smap.data, dtype=np.float32), SolarDisk(cx, cy, radius), scale,
                                          date, source, header=header, wavelength_nm=wavelength))


def _wavelength_nm(smap) -> float | None:
    """The map's wavelength in nm when its header gives one with a unit (HMI: 6173 angstrom); else unknown."""
    try:
        wavelength = smap.wavelength
    except ValueError:  # a WAVEUNIT astropy cannot read as written ('ANGSTROM'): read it case aside
        return header_wavelength_nm(smap.meta)
    if wavelength is None or not wavelength.unit.is_equivalent(u.m):
        return None
    return float(wavelength.to_value(u.nm))


def is_pspt_frame(header) -> bool:
    """Whether a FITS header carries the PSPT archive's disk geometry keys."""
    return all(key in header for key in ("CENTER_X", "CENTER_Y", pspt.RADIUS_KEY))


def _read_fits(path: Path) -> SolarImage:
    """PSPT geometry keys when present, else the header's solar WCS through sunpy; read with the bounded
    reader, so a header's claims are checked before any pixel and nothing after the image is decompressed."""
    try:
        data, header = pspt.read_fits(path)
    except pspt.PSPTFileError as err:
        raise SolarImageError(str(err)) from err
    _check_size(data.shape, path)
    if is_pspt_frame(header):
        return _read_pspt(path, data, header)
    import sunpy.map

    try:
        smap = sunpy.map.Map(data, header)
    except Exception as err:  # sunpy raises many kinds; all mean "no solar WCS we can use"
        raise SolarImageError(f"{path}: no PSPT disk keys and no solar WCS sunpy can use "
                              f"({type(err).__name__}: {err})") from err
    return from_map(smap, path)


def _read_with_sunpy(path: Path) -> SolarImage:
    import sunpy.map

    try:
        smap = sunpy.map.Map(str(path))
    except Exception as err:  # sunpy raises many kinds; all mean "not a solar image we can read"
        raise SolarImageError(f"{path}: sunpy cannot read it as a solar map ({type(err).__name__}: {err})") from err
    if isinstance(smap, list) or not isinstance(smap, sunpy.map.GenericMap):
        raise SolarImageError(f"{path}: holds several images; give one full-disk image per file")
    return from_map(smap, path)


def _read_picture(path: Path, date: dt.datetime | None) -> SolarImage:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # PIL refuses decompression bombs above this
    try:
        with Image.open(path) as picture:
            _check_size(picture.size[::-1], path)
            grey = np.asarray(picture.convert("F"), dtype=np.float32)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise SolarImageError(f"{path}: not a readable picture ({type(err).__name__}: {err})") from err
    data = grey[::-1].copy()  # row 0 at the bottom, as in FITS
    try:
        disk = fit_disk(data)
    except DiskFitError as err:
        raise SolarImageError(f"{path}: {err}") from err
    return SolarImage(data, disk, apparent_radius_arcsec(date) / disk.radius,
                      date, path, rows_flipped=True)


def read_solar_image(path: str | Path, date: str | None = None) -> SolarImage:
    """Read one full-disk image of any supported kind; ``date`` (ISO) is for pictures without metadata."""
    path = Path(path)
    if not path.is_file():
        raise SolarImageError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith(FITS_SUFFIXES):
            image = _read_fits(path)
        elif name.endswith(JP2_SUFFIXES):
            image = _read_with_sunpy(path)
        else:
            image = _read_picture(path, _parse_date(date, path))
    except SolarImageError:
        raise
    except Exception as err:  # a hostile file can break a reader in any way; it is still just an unreadable file
        raise SolarImageError(f"{path}: cannot be read ({type(err).__name__}: {err})") from err
    return _with_finite_pixels(image)


def _with_finite_pixels(image: SolarImage) -> SolarImage:
    """Blank (NaN) pixels, as HMI writes off the disk, become 0: the sky level flattening subtracts anyway."""
    finite = np.isfinite(image.data)
    if not finite.any():
        raise SolarImageError(f"{image.source}: every pixel is blank (NaN or infinite)")
    if not finite.all():
        image.data = np.where(finite, image.data, np.float32(0.0))
    return image


def from_array(data: np.ndarray, disk=None, date=None, source: str | Path = "array") -> SolarImage:
    """A SolarImage from a 2-D array stored FITS-style (row 0 at the bottom, solar north up).

    ``disk`` is a ``SolarDisk`` or (center_x, center_y, radius) in pixels, fitted as a picture's when not
    given; ``date`` (ISO text or datetime) sets the Sun's apparent size and places it on the sky."""
    source = Path(source)
    data = np.asarray(data, dtype=np.float32)
    _check_size(data.shape, source)
    if isinstance(date, str):
        date = _parse_date(date, source)
    if disk is None:
        try:
            disk = fit_disk(np.nan_to_num(data))
        except DiskFitError as err:
            raise SolarImageError(f"{source}: {err} (pass its disk: center_x, center_y, radius)") from err
    elif not isinstance(disk, SolarDisk):
        disk = SolarDisk(*disk)
    return _with_finite_pixels(SolarImage(data.copy(), disk, apparent_radius_arcsec(date) / disk.radius, date, source))


def as_solar_image(image, disk=None, date=None, name: str | None = None) -> SolarImage:
    """Any input the API takes: a file path, a ``sunpy.map.GenericMap`` or an array (``from_array``)."""
    if isinstance(image, SolarImage):
        return image
    if isinstance(image, (str, Path)):
        return read_solar_image(image, date.isoformat() if isinstance(date, dt.datetime) else date)
    if isinstance(image, np.ndarray):
        return from_array(image, disk, date, name or "array")
    if hasattr(image, "wcs") and hasattr(image, "meta"):  # a sunpy map, without importing sunpy to ask
        return from_map(image, name or getattr(image, "name", None) or "sunpy map")
    raise SolarImageError(f"{name or type(image).__name__}: expected a file path, a sunpy Map or a 2-D array, "
                          f"got {type(image).__name__}")
