"""Intensities of the quiet Sun and its features in the red continuum and Ca II K (numbers from PSPT.md)."""

from __future__ import annotations

import numpy as np

#: Neckel & Labs (1994) limb-darkening polynomial interpolated to 607.1 nm: I(mu)/I(1) = sum a_k mu^k.
NECKEL_LABS_607 = (0.30547, 1.36654, -1.82627, 2.31840, -1.62208, 0.45793)
#: Ca II K through a 0.27 nm filter: a linear law, darker at the limb than the red continuum. An
#: approximation (no fit to PSPT K data was found); the models here are trained on R.
K_LINEAR_LIMB = 0.25
#: Ca II K brightness of each mask code relative to the local quiet Sun (codes 3-8).
K_CONTRAST = {3: 1.25, 4: 1.45, 5: 1.75, 6: 2.1, 7: 0.55, 8: 0.85}


def limb_darkening(mu: np.ndarray) -> np.ndarray:
    """Centre-to-limb variation of the red continuum (607.1 nm).

    Parameters
    ----------
    mu : numpy.ndarray
        Cosine of the heliocentric angle, 1 at disk centre, 0 at the limb.

    Returns
    -------
    numpy.ndarray
        I(mu)/I(1), float32: 0.735 at mu = 0.5, 0.305 at the limb.

    References
    ----------
    .. [1] Neckel, H. & Labs, D. (1994), "Solar limb darkening 1986-1990", *Sol. Phys.* 153, 91: the
       fifth-order polynomial, interpolated to 607.1 nm (``NECKEL_LABS_607``; see docs/PSPT.md).
    """
    mu = np.asarray(mu, dtype=np.float32)
    return np.polynomial.polynomial.polyval(mu, NECKEL_LABS_607).astype(np.float32)


def k_limb_darkening(mu: np.ndarray) -> np.ndarray:
    mu = np.asarray(mu, dtype=np.float32)
    return (K_LINEAR_LIMB + (1 - K_LINEAR_LIMB) * mu).astype(np.float32)


def umbra_contrast(area_msh: float) -> float:
    """Umbral intensity relative to the local quiet Sun: about 0.45 for small spots down to 0.2 for large ones."""
    size = np.clip(np.log10(max(area_msh, 1.0) / 10.0) / 2.0, 0.0, 1.0)
    return float(0.45 - 0.25 * size)


def penumbra_contrast(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.75, 0.85))


def facular_contrast(mu: np.ndarray) -> np.ndarray:
    """Continuum facular excess: about 0 at disk centre, rising to about 8 % near mu = 0.2 and beyond."""
    return (0.08 * np.clip((1.0 - mu) / 0.8, 0.0, 1.0) ** 2).astype(np.float32)


#: The red continuum the archive's intensities are for (nm), and the disk-centre brightness temperature there.
RED_NM = 607.1
CENTRE_TEMPERATURE_K = 6000.0
#: Second radiation constant h c / k, in nm K.
C2_NM_K = 1.4388e7


def at_wavelength(red_ratio: np.ndarray, wavelength_nm: float) -> np.ndarray:
    """Intensities relative to disk centre at ``RED_NM`` as they are at ``wavelength_nm``.

    Each ratio is turned into a brightness temperature by Planck's law and back at the other wavelength,
    the disk centre held at ``CENTRE_TEMPERATURE_K``. Blue light then shows the stronger limb darkening and
    spot contrast it has on the Sun (at 409 nm the limb falls to about 0.18, a 0.3 umbra to about 0.15).

    Parameters
    ----------
    red_ratio : numpy.ndarray
        Intensity relative to disk centre at 607.1 nm (limb darkening times feature contrast).
    wavelength_nm : float
        The continuum wavelength to express it at, in nm.

    Returns
    -------
    numpy.ndarray
        Intensity relative to disk centre at ``wavelength_nm``, float32.

    References
    ----------
    .. [1] Planck's law with the second radiation constant c2 = hc/k = 1.4388e7 nm K (CODATA 2018).
    .. [2] Pierce, A. K. & Slaughter, C. D. (1977), *Sol. Phys.* 51, 25: limb darkening steepens towards
       the blue, as this conversion reproduces.
    """
    if abs(wavelength_nm - RED_NM) < 1e-6:
        return np.asarray(red_ratio, np.float32)
    ratio = np.clip(np.asarray(red_ratio, np.float64), 1e-6, None)
    red_centre = np.expm1(C2_NM_K / (RED_NM * CENTRE_TEMPERATURE_K))
    temperature = C2_NM_K / (RED_NM * np.log1p(red_centre / ratio))
    other_centre = np.expm1(C2_NM_K / (wavelength_nm * CENTRE_TEMPERATURE_K))
    return (other_centre / np.expm1(C2_NM_K / (wavelength_nm * temperature))).astype(np.float32)
