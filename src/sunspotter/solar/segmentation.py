"""What any whole-image detector answers (the CNN, STARA, the contrast cut), in the input's own pixels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Segmentation:
    """A sunspot mask, the probability behind it, and what was set aside as dust."""

    mask: np.ndarray         # uint8, 1 = sunspot, on the input's pixels
    probability: np.ndarray  # the localizer's, per pixel
    dust: np.ndarray         # bool: called sunspot but set aside as lying on the detector's dust
