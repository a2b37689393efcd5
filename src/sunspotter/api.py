"""The Python API: ``sunspotter.detect(image)`` in a notebook, the same answer ``sunspotter predict`` writes.

>>> import sunspotter
>>> found = sunspotter.detect("20140106.1800.HW.R.P.rdc.fits.gz")  # doctest: +SKIP
>>> found.regions["area_msh"].to("km2")                               # doctest: +SKIP
"""

from __future__ import annotations

import logging

from sunspotter.fulldisk.detection import Detection, detect_image

__all__ = ["Detection", "detect"]
log = logging.getLogger(__name__)


def detect(image, model=None, *, disk=None, date=None, name: str | None = None) -> Detection:
    """Find the sunspots of one full-disk continuum image.

    Parameters
    ----------
    image : str, pathlib.Path, sunpy.map.GenericMap or numpy.ndarray
        A file (FITS, ``.fits.fz``, JPEG 2000, PNG, JPG), a sunpy Map, or a 2-D array stored FITS-style (row 0
        at the bottom) with its ``disk``.
    model : str, pathlib.Path, FullDiskModel, mlflow.pyfunc.PyFuncModel or None
        A registry URI (``models:/sunspot-localizer@champion``), a saved full-disk model folder, or a model
        already loaded (``sunspotter.lifecycle.model_source.load``: a loop loads it once). None: the
        registry's ``@champion``, else its ``@challenger``, else the pipeline's saved copy; the answer's
        ``model`` says which was used.
    disk : SolarDisk or (center_x, center_y, radius), optional
        The disk of an array, in pixels (0-based; x a column, y a row from the bottom); fitted when not given.
    date : str or datetime, optional
        When a picture or an array was taken (ISO); it sets the Sun's apparent size and places the Sun on
        the sky. Files and Maps that carry a date keep theirs.
    name : str, optional
        What error messages and outputs call an array or Map input.

    Returns
    -------
    Detection
        ``mask`` and ``codes`` (PSPT 7 umbra, 8 penumbra) on the input's pixels, ``mask_map`` (a sunpy Map with
        the input's WCS; None for an undated picture, ``map_note`` says so), ``probability``, ``regions`` (an
        ``astropy.table.QTable`` with units; columns in ``docs/catalog.md``) and ``catalog`` (the same as a
        DataFrame of plain numbers).
    """
    from sunspotter.lifecycle import model_source
    from sunspotter.solar.solar_image import as_solar_image

    source = model_source.load(model)
    if model is None:
        log.info("sunspotter.detect: using %s", source.describe())
    solar_image = as_solar_image(image, disk=disk, date=date, name=name)
    return detect_image(solar_image, source.model, source.describe())

