"""Intensities of the quiet Sun and its features in the red continuum (numbers from PSPT.md)."""

from __future__ import annotations

import numpy as np

#: Neckel & Labs (1994) limb-darkening polynomial interpolated to 607.1 nm: I(mu)/I(1) = sum a_k mu^k.
NECKEL_LABS_607 = (0.30547, 1.36654, -1.82627, 2.31840, -1.62208, 0.45793)


def limb_darkening(mu: np.ndarray) -> np.ndarray:
    """Relative intensity I(mu)/I(1); 0.735 at mu = 0.5, 0.305 at the limb."""
    mu = np.asarray(mu, dtype=np.float32)
    return np.polynomial.polynomial.polyval(mu, NECKEL_LABS_607).astype(np.float32)


def umbra_contrast(area_msh: float, rng: np.random.Generator) -> float:
    """Umbral intensity relative to the local quiet Sun: 0.45 for small spots down to 0.2 for big ones."""
    size = np.clip(np.log10(max(area_msh, 1.0) / 10.0) / 2.0, 0.0, 1.0)
    return float(np.clip(0.45 - 0.25 * size + rng.normal(0, 0.02), 0.18, 0.5))


def penumbra_contrast(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.75, 0.85))


def facular_contrast(mu: np.ndarray) -> np.ndarray:
    """Continuum facular excess: about 0 at disk centre, rising to several percent near the limb."""
    return (0.08 * (1.0 - mu) ** 2).astype(np.float32)
