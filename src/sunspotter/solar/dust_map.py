"""The detector's dust map: pixels dark in the same place on many days, which no sunspot can be.

Dust on the optics casts a soft shadow sharp enough to pass for a pore, and one frame alone cannot
tell them apart. Over days they part company: the Sun turns about 13 degrees a day, carrying every
spot a couple of hundred pixels across the detector, while a speck stays on the same pixels. So a
pixel darker than its surroundings on several frames of an archive is dust, and a sunspot called on
such pixels of a frame from the same detector is set aside (listed, never silently dropped), unless it
has umbra beside the dust: a speck's shadow fades towards its edge, where a sunspot crossing it keeps its
dark core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits
from scipy import ndimage

from sunspotter.io import pspt
from sunspotter.solar.background import BACKGROUND_SIGMA_PX, local_background
from sunspotter.solar.solar_image import SolarImage, is_pspt_frame

#: A sunspot called mostly (this share of its pixels) on dust is dust.
VETO_SHARE = 0.5


@dataclass(frozen=True)
class DustMap:
    dusty: np.ndarray  # bool, the detector's pixels: True where dust sits
    frames: int        # how many frames it was built from

    def applies_to(self, image: SolarImage) -> bool:
        """Only to frames of the detector it was made from: PSPT frames of the same size."""
        return image.data.shape == self.dusty.shape and is_pspt_frame(image.header)

    def veto(self, mask: np.ndarray, umbra: np.ndarray) -> np.ndarray:
        """``mask`` without the sunspots (8-connected patches) that lie mostly on dust and have no umbra off it.

        ``umbra`` is the mask's umbra as the catalog counts it (``catalog.umbra_pixels``). The map holds each
        speck's dark part; beside it the shadow fades, so umbra there is a sunspot's core: the patch is a
        sunspot crossing a speck, not the speck.
        """
        patches, count = ndimage.label(mask, structure=np.ones((3, 3)))
        if count == 0:
            return mask
        called = patches > 0
        label = patches[called]
        # Per patch, counted over the called pixels alone (ndimage.mean would walk the whole frame: 20 times
        # slower on a 2048 x 2048 one): its pixels, those on dust, and its umbra beside the dust.
        size = np.bincount(label, minlength=count + 1)
        dusty = np.bincount(label, weights=self.dusty[called], minlength=count + 1)
        umbra_beside = np.bincount(label, weights=umbra[called] & ~self.dusty[called], minlength=count + 1)
        on_dust = (dusty >= VETO_SHARE * np.maximum(size, 1)) & (umbra_beside == 0)
        on_dust[0] = False
        return np.where(on_dust[patches], 0, mask).astype(mask.dtype)


def dark_pixels(image: SolarImage, dark_contrast: float) -> np.ndarray:
    """Pixels of the disk (inside the archive's limb cut) darker than ``dark_contrast`` x their surroundings."""
    contrast, mu = image.flattened()
    inside = mu > pspt.LIMB_MU
    background = local_background(contrast, inside, BACKGROUND_SIGMA_PX)
    return inside & (contrast < dark_contrast * background)


def build(images, dark_contrast: float, min_frames: int, min_fraction: float) -> DustMap:
    """The map from an iterable of SolarImages: pixels dark on at least ``min_frames`` frames and
    ``min_fraction`` of them. A spot crosses a pixel on a day or two at most; over a long archive spots
    cover busy pixels more often, which the fraction keeps out."""
    dark_count, frames = None, 0
    for image in images:
        dark = dark_pixels(image, dark_contrast)
        dark_count = dark.astype(np.int32) if dark_count is None else dark_count + dark
        frames += 1
    if dark_count is None:
        raise ValueError("a dust map needs at least one frame")
    needed = max(min_frames, min_fraction * frames)
    # One pixel more all round: the map is cut at a contrast, a called speck reaches a little wider.
    dusty = ndimage.binary_dilation(dark_count >= needed, structure=np.ones((3, 3)))
    return DustMap(dusty, frames)


def write(path: Path, dust: DustMap) -> None:
    header = fits.Header()
    header["CONTENT"] = ("dust map", "1 = dust on the detector, 0 = clear")
    header["NFRAMES"] = (dust.frames, "frames it was built from")
    pspt.write_fits(path, dust.dusty.astype(np.uint8), header)


def read(path: Path) -> DustMap:
    data, header = pspt.read_fits(path)
    if header.get("CONTENT") != "dust map":
        raise pspt.PSPTFileError(f"{path}: not a dust map (CONTENT is {header.get('CONTENT')!r})")
    return DustMap(data.astype(bool), int(header["NFRAMES"]))


def count_patches(mask: np.ndarray) -> int:
    """How many separate (8-connected) patches ``mask`` holds: specks of a map, spots set aside."""
    return int(ndimage.label(mask, structure=np.ones((3, 3)))[1])
