"""STARA (Watson & Fletcher 2010, ``sunkit_image.stara``): the sunspot detector solar physicists know, as a baseline.

STARA inverts a white-light image, smooths it with a median filter and keeps what a white top-hat with a
100-arcsec disk leaves above a threshold: dark features smaller than the disk, whatever the limb darkening
under them. Its threshold is in the image's own units (6000 for HMI counts); here the image is first divided
by its quiet-Sun level at disk centre, so the threshold is a fraction of it, and is chosen on the val split
like every other threshold. The top-hat is the cost (75 s on a 2048 x 2048 frame on a 2-core AMD EPYC): the
image is binned to about ``arcsec_per_px`` first (2 x 2 on PSPT's 1-arcsec frames, 4 x 4 on HMI's 0.5), and
the mask is returned at the image's own pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sunspotter.io import pspt
from sunspotter.solar.solar_image import SolarImage

#: The quiet-Sun level the image is divided by: the median over the disk within this mu of its centre.
CENTRE_MU = 0.9
#: STARA's median filter, which keeps single hot or dead pixels from being called (sunkit-image's default).
MEDIAN_BOX_ARCSEC = 10.0
#: Binning stops short of this plate scale, so that the median filter still spans two pixels.
MAX_BINNED_ARCSEC_PER_PX = MEDIAN_BOX_ARCSEC / 2
#: A binned plate scale this close under the wanted one is near enough.
BINNING_TOLERANCE = 0.05


def detect(image: SolarImage, threshold: float, arcsec_per_px: float = 0.0) -> np.ndarray:
    """Sunspots of ``image`` by STARA, the morphological detector of sunkit-image.

    Parameters
    ----------
    image : SolarImage
        A full-disk continuum image.
    threshold : float
        The white top-hat cut, as a fraction of the disk-centre quiet Sun.
    arcsec_per_px : float
        Bin the image to at least this plate scale first (0: not binned), never past
        ``MAX_BINNED_ARCSEC_PER_PX``; the top-hat's size follows the binned scale.

    Returns
    -------
    numpy.ndarray
        Binary sunspot mask (uint8) on ``image``'s pixels; none where mu < the archive's limb cut.

    References
    ----------
    .. [1] Watson, F. T., Fletcher, L. & Marshall, S. (2011), "Evolution of sunspot properties during solar
       cycle 23", *A&A* 533, A14.
    """
    return _detect(image, threshold, arcsec_per_px)[0]


def detect_each(image: SolarImage, thresholds: Sequence[float], arcsec_per_px: float = 0.0) -> list[np.ndarray]:
    """``[detect(image, threshold, arcsec_per_px) for threshold in thresholds]`` from one top-hat, the cost of
    STARA: how a threshold is chosen on val without paying for the top-hat once per threshold tried."""
    # sunkit-image ends with ``top_hat > threshold``: a column of thresholds, one per plane, gives every mask
    # from the one top-hat (tests/code/solar/test_stara.py holds it to ``detect``, one plain threshold a call).
    return _detect(image, np.asarray(thresholds, dtype=np.float64)[:, None, None], arcsec_per_px)


def _detect(image: SolarImage, threshold: float | np.ndarray, arcsec_per_px: float) -> list[np.ndarray]:
    """STARA's masks of ``image`` at ``threshold``: one number, or a column of them (``detect_each``)."""
    import astropy.units as u
    import sunpy.map
    from sunkit_image.stara import stara

    mu = image.disk.mu(image.data.shape)
    centre = image.data[mu > CENTRE_MU]
    level = float(np.median(centre)) if centre.size else 1.0
    downsample = binning(image.arcsec_per_px, arcsec_per_px)
    binned = _bin(image.data / max(level, 1e-12), downsample)
    scale = image.arcsec_per_px * downsample
    header = {"CDELT1": scale, "CDELT2": scale, "CUNIT1": "arcsec", "CUNIT2": "arcsec",
              "CTYPE1": "HPLN-TAN", "CTYPE2": "HPLT-TAN"}
    # On images coarser than the median box (quick-looks), the median is one pixel: no filter.
    median_box = max(MEDIAN_BOX_ARCSEC, scale) * u.arcsec
    spots = stara(sunpy.map.Map(binned.astype(np.float64), header), median_box=median_box, threshold=threshold)
    on_disk = mu >= pspt.LIMB_MU  # the archive's masks never mark spots at mu < 0.15 (nor does the contrast cut)
    return [_unbinned(plane, downsample, on_disk) for plane in np.reshape(spots, (-1, *binned.shape))]


def _unbinned(spots: np.ndarray, downsample: int, on_disk: np.ndarray) -> np.ndarray:
    """A binned mask back on the image's pixels (the dropped last rows and columns: none), on the disk alone."""
    full = np.zeros(on_disk.shape, dtype=bool)
    upsampled = np.repeat(np.repeat(spots, downsample, axis=0), downsample, axis=1)
    full[:upsampled.shape[0], :upsampled.shape[1]] = upsampled
    return (full & on_disk).astype(np.uint8)


def binning(image_arcsec_per_px: float, wanted_arcsec_per_px: float) -> int:
    """Pixels binned on a side: the fewest that reach ``wanted_arcsec_per_px`` (within 5 %: a PSPT frame's plate
    scale is 1 arcsec per pixel give or take the Earth's orbit, and must bin 2 x 2 for 2), within the median
    box's limit."""
    wanted = int(np.ceil(wanted_arcsec_per_px * (1 - BINNING_TOLERANCE) / image_arcsec_per_px))
    return max(1, min(wanted, int(MAX_BINNED_ARCSEC_PER_PX // image_arcsec_per_px)))


def _bin(data: np.ndarray, factor: int) -> np.ndarray:
    """``data`` averaged over ``factor`` x ``factor`` blocks (rows and columns past the last whole block dropped)."""
    if factor == 1:
        return data
    rows, cols = (n // factor * factor for n in data.shape)
    return data[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
