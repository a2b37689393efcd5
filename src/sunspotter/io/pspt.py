"""PSPT archive conventions: file names, header keys, mask codes and FITS pair I/O.

Everything that must match the real LASP archive lives here, so that a real download and the
synthetic archive drop into the same pipeline unchanged (see ``docs/PSPT.md``).
"""

from __future__ import annotations

import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from sunspotter.io import atomic

#: Filter letters used in PSPT file names.
FILTERS = {"R": "red continuum 607.1 nm", "B": "blue continuum 409.4 nm", "K": "Ca II K 393.4 nm", "M": "mask"}
WAVELENGTH_NM = {"R": 607.1, "B": 409.4, "K": 393.4}

#: Mask codes (Fontenla et al. 1999). Code 1 is unused in the archive.
MASK_CODES = {
    0: "off disk",
    2: "quiet Sun (and every pixel with mu < 0.15)",
    3: "network",
    4: "active network",
    5: "plage",
    6: "faculae (bright plage)",
    7: "sunspot umbra",
    8: "sunspot penumbra",
}
VALID_MASK_CODES = frozenset(MASK_CODES)
OFF_DISK, QUIET_SUN, NETWORK, ACTIVE_NETWORK, PLAGE, FACULAE, UMBRA, PENUMBRA = 0, 2, 3, 4, 5, 6, 7, 8
SUNSPOT_CODES = (UMBRA, PENUMBRA)
#: Pixels closer to the limb than this get code 2 whatever they show.
LIMB_MU = 0.15

#: The archive's radius keyword was not found (PSPT.md), so we define ours: disk radius in pixels.
RADIUS_KEY = "RADIUS"
REQUIRED_KEYS = ("DATE_OBS", "WAVELNTH", "CENTER_X", "CENTER_Y", RADIUS_KEY)

#: Files that may sit beside the FITS files in a raw folder: the download manifest and log.
MANIFEST_NAME, DOWNLOAD_LOG_NAME = "manifest.json", "download_log.json"
SIDE_FILES = frozenset({MANIFEST_NAME, DOWNLOAD_LOG_NAME})

_NAME = re.compile(r"^(?P<date>\d{8})\.(?P<time>\d{4})\.HW\.(?P<filter>[RBKM])\.P\.rdc\.fits(?:\.gz)?$")


class PSPTFileError(ValueError):
    """A file that breaks a PSPT convention; the message names the file and the rule."""


@dataclass(frozen=True, order=True)
class Observation:
    """One observation, keyed like the archive: ``YYYYMMDD.HHMM``."""

    date: str  # YYYYMMDD
    time: str  # HHMM

    @property
    def key(self) -> str:
        return f"{self.date}.{self.time}"

    @property
    def iso_date(self) -> str:
        return f"{self.date[:4]}-{self.date[4:6]}-{self.date[6:]}"

    def file_name(self, filter_letter: str) -> str:
        if filter_letter not in FILTERS:
            raise ValueError(f"unknown PSPT filter {filter_letter!r}; expected one of {sorted(FILTERS)}")
        return f"{self.key}.HW.{filter_letter}.P.rdc.fits.gz"


def parse_file_name(name: str) -> tuple[Observation, str]:
    """Return the observation and filter letter of a PSPT file name, or raise PSPTFileError."""
    match = _NAME.match(Path(name).name)
    if not match:
        raise PSPTFileError(f"{name}: not a PSPT file name (expected YYYYMMDD.HHMM.HW.<R|B|K|M>.P.rdc.fits[.gz])")
    return Observation(match["date"], match["time"]), match["filter"]


def observation_files(folder: Path, filter_letter: str) -> list[tuple[Path, Observation]]:
    """The well-named files of one filter in ``folder``, sorted; hidden files (a download's .part, an atomic
    write's .tmp) and misnamed ones are left out: validate_raw reports the misnamed ones."""
    found = []
    for path in sorted(Path(folder).glob(f"*.HW.{filter_letter}.P.rdc.fits*")):
        if path.name.startswith("."):
            continue
        try:
            obs, _ = parse_file_name(path.name)
        except PSPTFileError:
            continue
        found.append((path, obs))
    return found


def read_header(path: Path) -> fits.Header:
    """The primary header only: no pixels are decompressed beyond it."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            return _parse_header(path, _header_blocks(path, handle))
    except PSPTFileError:
        raise
    except Exception as err:  # the file's bytes decide what fails; every failure means "not readable FITS"
        raise PSPTFileError(f"{path}: cannot be read as FITS ({type(err).__name__}: {err})") from err


#: Hard observing conditions, rarest first: a frame with several is counted under the first (see ``main_condition``).
HARD_CONDITIONS = ("cloud", "bad_seeing", "dust")


def frame_conditions(header) -> list[str]:
    """The observing conditions a synthetic frame's SYN* keys (written by ``synth.archive``) record: any of
    dust, cloud, bad_seeing, else clean; ``unknown`` for a frame without them (a real archive's)."""
    if "SYNDUST" not in header:
        return ["unknown"]
    found = [name for name, present in (("dust", bool(header["SYNDUST"])), ("cloud", float(header["SYNCLOUD"]) > 0),
                                        ("bad_seeing", bool(header["SYNBADSE"]))) if present]
    return found or ["clean"]


def main_condition(conditions: list[str]) -> str:
    """One label per frame: its rarest hard condition, else clean or unknown."""
    return next((name for name in HARD_CONDITIONS if name in conditions), conditions[0])


def sunspot_mask(codes: np.ndarray) -> np.ndarray:
    """Binary sunspot mask (umbra or penumbra) as uint8."""
    return np.isin(codes, SUNSPOT_CODES).astype(np.uint8)


#: A training mask's value for pixels the archive's mask does not speak for: on the disk but closer to the
#: limb than LIMB_MU, coded quiet Sun whatever they show. A spot rotating over the limb is dark there, so
#: taking the code at its word teaches a model that dark patches near the limb are not spots, and it then
#: misses real ones further in (big foreshortened groups at mu 0.17-0.23 scored 0.01). Training and tile
#: scoring leave these pixels out, as full-disk inference does (it calls nothing there).
UNLABELLED = 2


def training_mask(codes: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """uint8 per pixel: 1 sunspot, 0 not, UNLABELLED on the disk at mu < LIMB_MU (``mu`` as ``codes``)."""
    mask = sunspot_mask(codes)
    mask[(codes != OFF_DISK) & (mu < LIMB_MU)] = UNLABELLED
    return mask


def write_fits(path: Path, data: np.ndarray, header: fits.Header, compresslevel: int = 6) -> None:
    """Write a gzipped FITS file byte-for-byte reproducibly (gzip mtime 0, no name) and atomically."""
    raw = io.BytesIO()
    fits.PrimaryHDU(data=data, header=header).writeto(raw, output_verify="exception")
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=packed, mode="wb", compresslevel=compresslevel, mtime=0) as gz:
        gz.write(raw.getvalue())
    atomic.write_bytes(path, packed.getvalue())


#: FITS files come in blocks of this many bytes; the header ends with an END card.
FITS_BLOCK = 2880
END_CARD = b"END".ljust(80)
#: Bounds on what a header may claim before anything more is read: cards, pixels, bytes per pixel.
MAX_HEADER_BLOCKS = 200
MAX_PIXELS = 16384 * 16384
BITPIX_BYTES = {8: 1, 16: 2, 32: 4, 64: 8, -32: 4, -64: 8}


def _header_blocks(path: Path, handle) -> bytes:
    header = b""
    while True:
        block = handle.read(FITS_BLOCK)
        if len(block) < FITS_BLOCK:
            raise PSPTFileError(f"{path}: ends inside its FITS header (no END card in {len(header) + len(block)} bytes)")
        header += block
        if any(block[i:i + 80] == END_CARD for i in range(0, FITS_BLOCK, 80)):
            return header
        if len(header) >= MAX_HEADER_BLOCKS * FITS_BLOCK:
            raise PSPTFileError(f"{path}: FITS header longer than {MAX_HEADER_BLOCKS} blocks without an END card")


def _parse_header(path: Path, blocks: bytes) -> fits.Header:
    if not blocks.startswith(b"SIMPLE  ="):
        raise PSPTFileError(f"{path}: not a FITS file (it does not start with SIMPLE)")
    return fits.Header.fromstring(blocks.decode("ascii", errors="replace"))


def _data_bytes(path: Path, header: fits.Header) -> int:
    """Bytes of primary data the header claims, refused when the claim is malformed or too large to read."""
    bitpix, naxis = header.get("BITPIX"), header.get("NAXIS")
    if bitpix not in BITPIX_BYTES:
        raise PSPTFileError(f"{path}: BITPIX {bitpix!r} is not one of {sorted(BITPIX_BYTES)}")
    if not isinstance(naxis, int) or not 0 <= naxis <= 3:
        raise PSPTFileError(f"{path}: NAXIS {naxis!r} is not an image's (0 to 3 axes)")
    axes = [header.get(f"NAXIS{i}") for i in range(1, naxis + 1)]
    if not all(isinstance(n, int) and n > 0 for n in axes):
        raise PSPTFileError(f"{path}: axis lengths {axes} are not positive whole numbers")
    pixels = int(np.prod(axes, dtype=np.int64)) if axes else 0
    if pixels > MAX_PIXELS:
        raise PSPTFileError(f"{path}: the header claims {' x '.join(map(str, axes))} pixels, more than the "
                            f"{MAX_PIXELS} read")
    return pixels * BITPIX_BYTES[bitpix]


def _primary_hdu_bytes(path: Path) -> bytes:
    """The primary HDU's bytes and nothing after them: a header's claims are checked before any pixel is
    read, and whatever follows the data (junk, or gigabytes of a gzip bomb) is never decompressed."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        blocks = _header_blocks(path, handle)
        size = _data_bytes(path, _parse_header(path, blocks))
        data = handle.read(size)
    if len(data) < size:
        raise PSPTFileError(f"{path}: truncated: the header claims {size} bytes of data, the file holds {len(data)}")
    return blocks + data + b"\0" * (-size % FITS_BLOCK)


def read_fits(path: Path) -> tuple[np.ndarray, fits.Header]:
    """Read the primary array and header of a (gzipped) FITS file, with errors that name the file.

    Time and memory are bounded by what the header claims (at most MAX_PIXELS), whatever the file holds."""
    path = Path(path)
    try:
        with fits.open(io.BytesIO(_primary_hdu_bytes(path)), memmap=False) as hdul:
            hdu = hdul[0]
            if hdu.data is None:
                raise PSPTFileError(f"{path}: FITS file has no image data in its primary HDU")
            return np.asarray(hdu.data), hdu.header.copy()
    except PSPTFileError:
        raise
    except Exception as err:  # the file's bytes decide what fails; every failure means "not readable FITS"
        raise PSPTFileError(f"{path}: cannot be read as FITS ({type(err).__name__}: {err})") from err
