"""PSPT archive conventions: file names, header keys, mask codes and FITS pair I/O.

Everything that must match the real LASP archive lives here, so that a real download and the
synthetic archive drop into the same pipeline unchanged (see ``docs/PSPT.md``).
"""

from __future__ import annotations

import gzip
import io
import math
import re
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

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

#: How a PSPT file name may end: plain FITS, gzipped (the archive's and the synthetic archive's way) or
#: fpacked (tile-compressed, ``.fits.fz``). Every stage pairs an observation's files whatever their suffix.
SUFFIXES = (".fits", ".fits.gz", ".fits.fz")
_NAME = re.compile(r"^(?P<date>\d{8})\.(?P<time>\d{4})\.HW\.(?P<filter>[RBKM])\.P\.rdc\.fits(?:\.gz|\.fz)?$")


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

    def stem(self, filter_letter: str) -> str:
        """The name of this observation's file in ``filter_letter`` without its suffix (one of ``SUFFIXES``)."""
        if filter_letter not in FILTERS:
            raise ValueError(f"unknown PSPT filter {filter_letter!r}; expected one of {sorted(FILTERS)}")
        return f"{self.key}.HW.{filter_letter}.P.rdc"

    def file_name(self, filter_letter: str) -> str:
        """The name the synthetic archive writes (gzipped); ``find_file`` finds a file whatever its suffix."""
        return f"{self.stem(filter_letter)}.fits.gz"


def parse_file_name(name: str) -> tuple[Observation, str]:
    """Return the observation and filter letter of a PSPT file name, or raise PSPTFileError."""
    match = _NAME.match(Path(name).name)
    if not match:
        raise PSPTFileError(f"{name}: not a PSPT file name (expected YYYYMMDD.HHMM.HW.<R|B|K|M>.P.rdc.fits[.gz|.fz])")
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


def find_file(folder: Path, observation: Observation, filter_letter: str) -> Path | None:
    """The file of ``observation`` in ``filter_letter`` in ``folder`` whatever its suffix (``SUFFIXES``), or
    None; two of them (say ``.fits`` and ``.fits.gz``) are a PSPTFileError naming both, as which one is meant
    cannot be told."""
    stem = observation.stem(filter_letter)
    found = [path for suffix in SUFFIXES if (path := Path(folder) / f"{stem}{suffix}").is_file()]
    if len(found) > 1:
        raise PSPTFileError(f"{' and '.join(map(str, found))}: the same observation and filter twice; keep one")
    return found[0] if found else None


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
#: Bytes a tile-compressed image's table and heap may claim (NAXIS1 x NAXIS2 + PCOUNT): the largest image
#: read (MAX_PIXELS) as 32-bit integers, 1 GiB. Compression that came out bigger than that compressed nothing
#: (a 4096 x 4096 HMI image is 64 MiB as int32 before compression), so a bigger claim is a broken or hostile
#: file; refused from the header, it is never read into memory.
MAX_COMPRESSED_BYTES = MAX_PIXELS * 4
#: HDUs looked through for the image, and data bytes before it that may be skipped. HMI, AIA and fpack put
#: the image right after an empty primary, so both are generous; they bound what a file's leading HDUs can
#: cost (a gzipped file must be decompressed to be skipped through).
MAX_HDUS = 16
MAX_SKIPPED_BYTES = 64 * 1024**2
#: Skipped data is read this many bytes at a time, so skipping takes no memory.
SKIP_CHUNK = 1024**2
#: Compressed bytes inflated at a time when a gzip tile is measured: deflate expands at most 1032 to 1, so
#: no step holds more than 17 MB.
INFLATE_FEED = 16 * 1024
#: Keys about an HDU's own layout and data: an extension's image never takes them from the primary.
_OWN_KEYS = re.compile(r"^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|EXTNAME|EXTVER|"
                       r"EXTLEVEL|INHERIT|CHECKSUM|DATASUM|COMMENT|HISTORY|)$")
_NOT_ZERO = re.compile(rb"[^\0]")


@dataclass(frozen=True)
class _ImageHDU:
    """Where a file's image is: its HDU's header, the data bytes it claims and, when the image is in an
    extension, the primary header before it."""

    blocks: bytes  # the image HDU's header blocks
    header: fits.Header
    data_bytes: int  # a compressed image's table and heap
    primary: bytes = b""  # the primary header's blocks, for an image in an extension
    compressed: bool = False


def read_fits(path: Path) -> tuple[np.ndarray, fits.Header]:
    """Read the image of a FITS file (plain, gzipped or tile-compressed) and its header, with errors that name
    the file.

    The image is the primary's data, else the first IMAGE extension or tile-compressed image (as JSOC, VSO and
    fpack deliver HMI and AIA files). An extension's header gets the primary's keys it lacks (the
    INHERIT convention: HMI puts every key in HDU 1, others in the primary). BSCALE, BZERO and BLANK are
    applied (BLANK pixels become NaN). Time and memory are bounded by what the headers claim (at most
    MAX_PIXELS, checked before any pixel is read or decompressed), whatever the file holds: nothing after the
    image is read."""
    path = Path(path)
    with _errors_named(path), _open(path) as handle:
        found = _find_image(path, handle)
        raw = found.primary + found.blocks + _read_data(path, handle, found.data_bytes)
    with _errors_named(path):
        if found.compressed:
            _check_gzip_tiles(path, raw)
        with fits.open(io.BytesIO(raw), memmap=False) as hdul:
            hdu = hdul[1] if found.primary else hdul[0]
            if not hdu.is_image:
                raise PSPTFileError(f"{path}: its tile-compressed HDU is not an image astropy can decompress")
            data = np.asarray(hdu.data)  # first: astropy drops BSCALE, BZERO and BLANK once it has applied them
            return data, _inherit(hdu.header, hdul[0].header) if found.primary else hdu.header.copy()


def read_header(path: Path) -> fits.Header:
    """The image's header as ``read_fits`` finds it (before BSCALE, BZERO and BLANK are applied, which
    ``read_fits`` then drops), from the headers alone: no pixel is read or decompressed."""
    path = Path(path)
    with _errors_named(path):
        with _open(path) as handle:
            found = _find_image(path, handle)
        if not found.primary:
            return found.header
        header = _compressed_image_header(found) if found.compressed else found.header
        return _inherit(header, _parse_header(path, found.primary))


@contextmanager
def _errors_named(path: Path):
    """Any failure inside is a PSPTFileError naming the file: its bytes decide what fails, and every failure
    means "not readable FITS"."""
    try:
        yield
    except PSPTFileError:
        raise
    except Exception as err:
        raise PSPTFileError(f"{path}: cannot be read as FITS ({type(err).__name__}: {err})") from err


def _open(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _find_image(path: Path, handle) -> _ImageHDU:
    """The first HDU with an image: the primary when it has data, else the first IMAGE extension or
    tile-compressed image (a BINTABLE with ZIMAGE = T). Each header's claims are checked as it is read, HDUs
    before the image are skipped by the sizes they claim, and ``handle`` is left at the image's data."""
    primary = _header_blocks(path, handle)
    header = _parse_header(path, primary)
    size = _data_bytes(path, header)
    if size:
        return _ImageHDU(primary, header, size)
    skipped = 0
    for number in range(1, MAX_HDUS):
        blocks = _header_blocks(path, handle, end_ok=True)
        if not blocks:
            raise PSPTFileError(f"{path}: FITS file has no image data in its primary HDU nor in an extension")
        where = f"{path} (HDU {number})"
        header = _parse_header(where, blocks, first="XTENSION")
        if header.get("XTENSION") == "BINTABLE" and header.get("ZIMAGE") is True:
            return _ImageHDU(blocks, header, _compressed_bytes(where, header), primary, compressed=True)
        if header.get("XTENSION") == "IMAGE" and (size := _data_bytes(where, header)):
            return _ImageHDU(blocks, header, size, primary)
        size = _padded(_claimed_bytes(where, header))
        skipped += size
        if skipped > MAX_SKIPPED_BYTES:
            raise PSPTFileError(f"{where}: the HDUs before the image claim {skipped} bytes of data, more than the "
                                f"{MAX_SKIPPED_BYTES} skipped")
        _skip(where, handle, size)
    raise PSPTFileError(f"{path}: no image in its first {MAX_HDUS} HDUs")


def _header_blocks(path, handle, end_ok: bool = False) -> bytes:
    """One header's blocks, up to its END card; with ``end_ok``, b"" where the file ends before it (no more HDUs)."""
    header = b""
    while True:
        block = handle.read(FITS_BLOCK)
        if end_ok and not header and not block:
            return b""
        if len(block) < FITS_BLOCK:
            raise PSPTFileError(f"{path}: ends inside its FITS header (no END card in {len(header) + len(block)} bytes)")
        header += block
        if any(block[i:i + 80] == END_CARD for i in range(0, FITS_BLOCK, 80)):
            return header
        if len(header) >= MAX_HEADER_BLOCKS * FITS_BLOCK:
            raise PSPTFileError(f"{path}: FITS header longer than {MAX_HEADER_BLOCKS} blocks without an END card")


def _parse_header(where, blocks: bytes, first: str = "SIMPLE") -> fits.Header:
    if not blocks.startswith(f"{first:8}=".encode()):
        raise PSPTFileError(f"{where}: not a FITS file (it does not start with {first})")
    return fits.Header.fromstring(blocks.decode("ascii", errors="replace"))


def _image_pixels(where, header: fits.Header, prefix: str = "") -> int:
    """Pixels of the image a header describes (with ``prefix`` "Z", the image a tile-compressed table
    decompresses to), refused when the claim is malformed or more than MAX_PIXELS."""
    bitpix, naxis = header.get(f"{prefix}BITPIX"), header.get(f"{prefix}NAXIS")
    if bitpix not in BITPIX_BYTES:
        raise PSPTFileError(f"{where}: {prefix}BITPIX {bitpix!r} is not one of {sorted(BITPIX_BYTES)}")
    if not isinstance(naxis, int) or not 0 <= naxis <= 3:
        raise PSPTFileError(f"{where}: {prefix}NAXIS {naxis!r} is not an image's (0 to 3 axes)")
    axes = [header.get(f"{prefix}NAXIS{i}") for i in range(1, naxis + 1)]
    if not all(isinstance(n, int) and n > 0 for n in axes):
        raise PSPTFileError(f"{where}: axis lengths {axes} ({prefix}NAXISn) are not positive whole numbers")
    pixels = math.prod(axes) if axes else 0
    if pixels > MAX_PIXELS:
        raise PSPTFileError(f"{where}: the header claims {' x '.join(map(str, axes))} pixels ({prefix}NAXISn), "
                            f"more than the {MAX_PIXELS} read")
    return pixels


def _data_bytes(where, header: fits.Header) -> int:
    """Bytes of image data a primary or IMAGE header claims, refused when the claim is malformed or too large."""
    return _image_pixels(where, header) * BITPIX_BYTES[header["BITPIX"]]


def _claimed_bytes(where, header: fits.Header) -> int:
    """Bytes of data any HDU's header claims: |BITPIX| / 8 x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISn), none
    without axes (FITS standard 4.0, section 4.4.1)."""
    bitpix, naxis = header.get("BITPIX"), header.get("NAXIS")
    if bitpix not in BITPIX_BYTES or not isinstance(naxis, int) or not 0 <= naxis <= 999:
        raise PSPTFileError(f"{where}: BITPIX {bitpix!r} and NAXIS {naxis!r} are not a FITS extension's")
    axes = [header.get(f"NAXIS{i}") for i in range(1, naxis + 1)]
    pcount, gcount = header.get("PCOUNT", 0), header.get("GCOUNT", 1)
    if not all(isinstance(n, int) and n >= 0 for n in (*axes, pcount, gcount)):
        raise PSPTFileError(f"{where}: NAXISn {axes}, PCOUNT {pcount!r} and GCOUNT {gcount!r} are not all "
                            f"whole numbers >= 0")
    return BITPIX_BYTES[bitpix] * gcount * (pcount + math.prod(axes)) if axes else 0


def _compressed_bytes(where, header: fits.Header) -> int:
    """Bytes of a tile-compressed image's table and heap, refused, with the image it decompresses to, when
    either claim is malformed or too large: checked before a byte of it is read."""
    if not _image_pixels(where, header, prefix="Z"):
        raise PSPTFileError(f"{where}: its tile-compressed image has no pixels (ZNAXIS = 0)")
    size = _claimed_bytes(where, header)
    if size > MAX_COMPRESSED_BYTES:
        raise PSPTFileError(f"{where}: its tile-compressed image claims {size} bytes of table and heap "
                            f"(NAXIS1 x NAXIS2 + PCOUNT), more than the {MAX_COMPRESSED_BYTES} read")
    return size


def _padded(size: int) -> int:
    return size + (-size % FITS_BLOCK)


def _read_data(path: Path, handle, size: int) -> bytes:
    """The image's data, padded to whole blocks as astropy expects; nothing after it is read."""
    data = handle.read(size)
    if len(data) < size:
        raise PSPTFileError(f"{path}: truncated: the header claims {size} bytes of data, the file holds {len(data)}")
    return data + b"\0" * (-size % FITS_BLOCK)


def _skip(where, handle, size: int) -> None:
    while size > 0:
        chunk = handle.read(min(size, SKIP_CHUNK))
        if not chunk:
            raise PSPTFileError(f"{where}: truncated: the file ends inside the data this HDU claims")
        size -= len(chunk)


def _inherit(header: fits.Header, primary: fits.Header) -> fits.Header:
    """An extension image's header with the primary's keys it lacks, but for those about the primary's own
    layout and data."""
    merged = header.copy()
    for card in primary.cards:
        if not _OWN_KEYS.match(card.keyword) and card.keyword not in merged:
            merged[card.keyword] = (card.value, card.comment)
    return merged


def _compressed_image_header(found: _ImageHDU) -> fits.Header:
    """The header of the image a tile-compressed HDU decompresses to, as astropy makes it, from the headers
    alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)  # "the file may have been truncated": the data is left out
        with fits.open(io.BytesIO(found.primary + found.blocks), memmap=False) as hdul:
            return hdul[1].header.copy()


def _check_gzip_tiles(path: Path, raw: bytes) -> None:
    """Refuse a tile-compressed image whose gzip tiles inflate to more than the whole image may take.

    astropy inflates GZIP_1 and GZIP_2 tiles, and the lossless fallback column of quantized float images
    (GZIP_COMPRESSED_DATA, which HMI-style float files use for their blank rows), whole and with no bound, so
    one small tile could be a gzip bomb. Here each is inflated first, a little at a time, stopping once they
    pass 8 bytes a pixel together. RICE, PLIO and HCOMPRESS tiles decompress into a buffer of the tile's size.
    """
    with fits.open(io.BytesIO(raw), memmap=False, disable_image_compression=True) as hdul:
        table = hdul[1]
        limit = 8 * _image_pixels(path, table.header, prefix="Z")
        gzipped = ["GZIP_COMPRESSED_DATA"]
        if str(table.header.get("ZCMPTYPE", "")).startswith("GZIP"):
            gzipped.append("COMPRESSED_DATA")
        inflated = 0
        for name in (name for name in gzipped if name in table.columns.names):
            for cell in table.data[name]:
                inflated += _inflated_bytes(np.asarray(cell).tobytes(), limit - inflated)
                if inflated > limit:
                    raise PSPTFileError(f"{path}: the gzip tiles of its compressed image ({name}) inflate to more "
                                        f"than the {limit} bytes the whole image may take")


def _inflated_bytes(packed: bytes, limit: int) -> int:
    """Bytes a run of gzip members inflates to, as ``gzip.decompress`` reads them (zero bytes between members
    skipped), counted INFLATE_FEED input bytes at a time and no further than just past ``limit``."""
    view, start, total = memoryview(packed), 0, 0
    while start < len(view) and total <= limit:
        inflater = zlib.decompressobj(wbits=31)  # 16 + 15: gzip framing, the largest window
        while not inflater.eof and start < len(view) and total <= limit:
            piece = view[start:start + INFLATE_FEED]
            total += len(inflater.decompress(piece))
            start += len(piece)
        start -= len(inflater.unused_data)  # the next member starts where this one ended
        following = _NOT_ZERO.search(packed, start)
        start = following.start() if following else len(view)
    return total
