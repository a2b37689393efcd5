"""The synthetic Sun as other instruments record it: another plate scale, wavelength, noise and file format.

A profile's frame of observation ``i`` starts from the same random stream as the archive's frame ``i``:
the same disk position, cloud and seeing (in arcseconds), the same spots. The Sun is rendered at a whole
multiple of the profile's pixels no coarser than PSPT's and binned, so a coarse pixel integrates what
falls on it as a detector's does; its mask is sunspot where most of the pixel is. Intensities move from
the red continuum to the profile's wavelength by Planck's law (``photometry.at_wavelength``). Noise is
Poisson at the profile's photon count, or PSPT's 0.1 % read noise. Only a ``pspt_fits`` profile is on
PSPT's own detector and carries its dust specks and quadrant darks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from sunspotter.acquire.synth import observing, photometry
from sunspotter.acquire.synth.archive import CENTRE_COUNTS, Archive, render_sun
from sunspotter.acquire.synth.geometry import PSPT_IMAGE_SIZE, PSPT_PLATE_SCALE, apparent_radius_arcsec
from sunspotter.config import Profile
from sunspotter.io import pspt

#: An 8-bit picture puts disk centre at this level (headroom for faculae near the limb).
PICTURE_CENTRE_LEVEL = 230.0
JPEG_QUALITY = 75
#: File name endings by format.
SUFFIXES = {"pspt_fits": ".fits.gz", "wcs_fits": ".fits.gz", "jpeg": ".jpg", "png": ".png"}


@dataclass(frozen=True)
class Recorded:
    """One frame as the instrument writes it, with the truth about it."""

    observation: pspt.Observation
    image: np.ndarray  # int16 counts (FITS) or uint8 (pictures); row 0 at the bottom, solar north up
    codes: np.ndarray  # uint8 PSPT mask codes on the same pixels
    header: fits.Header  # the frame's own (FITS) keys and the SYN* truth about its sky


def image_size(profile: Profile) -> int:
    """Pixels on a side: the disk fills the image as on PSPT's 2048-pixel CCD at about 1 arcsec per pixel."""
    return max(int(round(PSPT_IMAGE_SIZE * PSPT_PLATE_SCALE / profile.arcsec_per_px)), 16)


def oversampling(profile: Profile, archive_size: int) -> int:
    """Rendered pixels per recorded pixel on a side: as many as bring the render near the archive's own
    pixels (whose size is the finest detail its Sun is drawn with)."""
    archive_arcsec_per_px = PSPT_IMAGE_SIZE * PSPT_PLATE_SCALE / archive_size
    return max(int(round(profile.arcsec_per_px / archive_arcsec_per_px)), 1)


def record(archive: Archive, index: int, profile: Profile) -> Recorded:
    """Observation ``index`` of ``archive`` as ``profile``'s instrument records it."""
    rng = np.random.default_rng([archive.config.seed, index])
    size, factor = image_size(profile), oversampling(profile, archive.config.image_size)
    sun = render_sun(archive, index, size * factor, rng)
    intensity = photometry.at_wavelength(photometry.limb_darkening(sun.mu) * sun.red, profile.wavelength_nm)
    intensity[sun.mu <= 0] = 0.0
    on_pspt = profile.format == "pspt_fits"
    specks = archive.specks if on_pspt else []
    light = _bin(observing.optics(intensity, rng, sun.conditions, specks), factor)
    if profile.photons > 0:
        light = rng.poisson(light * profile.photons).astype(np.float32) / profile.photons
    else:
        light = light + rng.normal(0.0, observing.NOISE_RMS, light.shape).astype(np.float32)
    header = _truth_header(sun, profile, size, factor)
    if profile.format in ("jpeg", "png"):
        image = np.clip(np.round(light * PICTURE_CENTRE_LEVEL), 0, 255).astype(np.uint8)
    else:
        counts = light * CENTRE_COUNTS["R"]
        if on_pspt:
            darks = np.round(rng.uniform(80, 160, 4), 1)
            counts = observing.quadrant_darks(counts, darks)
            header.update({f"DARK{i:02d}": float(dark) for i, dark in enumerate(darks, start=1)})
        image = np.clip(np.round(counts), 0, np.iinfo(np.int16).max).astype(np.int16)
    return Recorded(sun.observation, image, _binned_codes(sun.codes, factor), header)


def _bin(data: np.ndarray, factor: int) -> np.ndarray:
    """Mean over ``factor`` x ``factor`` blocks (the rendered size is a whole multiple of the recorded one)."""
    if factor == 1:
        return data
    size = data.shape[0] // factor
    return data.reshape(size, factor, size, factor).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def _binned_codes(codes: np.ndarray, factor: int) -> np.ndarray:
    """PSPT codes per recorded pixel: umbra or penumbra where most of it is sunspot (whichever covers more),
    else quiet Sun on the disk and off-disk off it. A pixel exactly half covered (common along edges with an
    even ``factor``) counts on every other pixel, checkerboard-wise, so the mask keeps the true area on average."""
    if factor == 1:
        return codes
    share = {code: _bin((codes == code).astype(np.float32), factor) for code in (pspt.UMBRA, pspt.PENUMBRA)}
    rows, cols = np.indices(share[pspt.UMBRA].shape)
    tie_wins = (rows + cols) % 2 == 0

    def most(fraction: np.ndarray) -> np.ndarray:
        return (fraction > 0.5 + 1e-6) | ((np.abs(fraction - 0.5) <= 1e-6) & tie_wins)

    on_disk = most(_bin((codes != pspt.OFF_DISK).astype(np.float32), factor))
    spot = most(share[pspt.UMBRA] + share[pspt.PENUMBRA])
    out = np.where(on_disk, pspt.QUIET_SUN, pspt.OFF_DISK).astype(np.uint8)
    out[spot] = np.where(share[pspt.UMBRA][spot] >= share[pspt.PENUMBRA][spot], pspt.UMBRA, pspt.PENUMBRA)
    return out


def _truth_header(sun, profile: Profile, size: int, factor: int) -> fits.Header:
    """The disk in recorded pixels (PSPT's keys), the date and the SYN* truth about the sky."""
    def recorded(position: float) -> float:  # rendered pixel centre -> recorded pixel centre
        return (position + 0.5) / factor - 0.5

    start = dt.datetime.strptime(sun.observation.key, "%Y%m%d.%H%M")
    header = fits.Header()
    header["DATE_OBS"] = (start.strftime("%Y-%m-%dT%H:%M:%S"), "start of observation (UT)")
    header["WAVELNTH"] = (profile.wavelength_nm, "continuum wavelength, nm")
    header["CENTER_X"] = (round(recorded(sun.disk.center_x), 3), "disk centre column, 0-based pixel")
    header["CENTER_Y"] = (round(recorded(sun.disk.center_y), 3), "disk centre row, 0-based pixel")
    header[pspt.RADIUS_KEY] = (round(sun.disk.radius / factor, 3), "solar disk radius in pixels")
    header["SOLAR_B0"] = (round(sun.disk.b0_deg, 4), "B0 angle, degrees")
    header["SYNDUST"] = (sun.conditions.dusty and profile.format == "pspt_fits", "synthetic: dust specks")
    header["SYNCLOUD"] = (round(sun.conditions.cloud_depth, 4), "synthetic: peak thin-cloud attenuation")
    header["SYNBLUR"] = (round(sun.conditions.seeing_sigma_px / factor, 4), "synthetic: seeing blur sigma, pixels")
    header["SYNBADSE"] = (sun.conditions.bad_seeing, "synthetic: a bad-seeing frame")
    return header


def write(recorded: Recorded, profile: Profile, name: str, out_dir: Path) -> tuple[Path, Path]:
    """Write the frame in the profile's format and its mask (PSPT codes, FITS); return (image, mask) paths."""
    stem = f"{recorded.observation.key}.{name}"
    image_path = out_dir / f"{stem}{SUFFIXES[profile.format]}"
    mask_path = out_dir / f"{stem}.mask.fits.gz"
    if profile.format == "pspt_fits":
        pspt.write_fits(image_path, recorded.image, recorded.header)
    elif profile.format == "wcs_fits":
        pspt.write_fits(image_path, recorded.image, _wcs_header(recorded, profile, name))
    else:
        _write_picture(image_path, recorded, profile)
    mask_header = recorded.header.copy()
    mask_header["MASKCODE"] = ("0 off,2 quiet,7 umbra,8 penumbra", "")
    pspt.write_fits(mask_path, recorded.codes, mask_header)
    return image_path, mask_path


def _wcs_header(recorded: Recorded, profile: Profile, name: str) -> fits.Header:
    """A solar WCS as HMI or GONG write it (helioprojective, Earth's view), without PSPT's keys."""
    import astropy.units as u
    import sunpy.map
    from astropy.coordinates import SkyCoord
    from sunpy.coordinates import frames

    truth = recorded.header
    date = dt.datetime.fromisoformat(truth["DATE_OBS"])
    centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, obstime=date, observer="earth", frame=frames.Helioprojective)
    wcs = sunpy.map.make_fitswcs_header(
        recorded.image.shape, centre, reference_pixel=[truth["CENTER_X"], truth["CENTER_Y"]] * u.pix,
        scale=[profile.arcsec_per_px] * 2 * u.arcsec / u.pix, wavelength=profile.wavelength_nm * u.nm,
        telescope="sunspotter synthetic", instrument=name)
    header = fits.Header(wcs)
    # The synthetic Sun's own apparent radius (sunpy would derive a slightly different one from the distance).
    header["RSUN_OBS"] = (apparent_radius_arcsec(date.date()), "apparent solar radius, arcsec")
    header.update({key: truth[key] for key in ("SYNDUST", "SYNCLOUD", "SYNBLUR", "SYNBADSE")})
    return header


def _write_picture(path: Path, recorded: Recorded, profile: Profile) -> None:
    """An 8-bit picture, north up (first row at the top); a JPEG quick-look with its caption burnt in."""
    from PIL import Image, ImageDraw

    picture = Image.fromarray(recorded.image[::-1])
    if profile.format == "jpeg":
        # Short, in the corners, on the sky: as quick-looks carry the instrument and the time.
        obs = recorded.observation
        draw = ImageDraw.Draw(picture)
        draw.text((3, 2), f"{profile.wavelength_nm:g} nm", fill=255)
        draw.text((3, picture.height - 12), f"{obs.iso_date} {obs.time[:2]}:{obs.time[2:]}", fill=255)
        picture.save(path, quality=JPEG_QUALITY)
    else:
        picture.save(path)
