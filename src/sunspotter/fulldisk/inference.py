"""Full-disk inference: the localizer run over a whole solar image, tile by tile, with no seams.

The image is resampled to the plate scale the model was trained on, its limb darkening removed
exactly as in tiling (``tiles.normalise``), and cut into overlapping tiles. Each tile's
probabilities are weighted by a window that falls towards the tile's edges (where a convolution
sees zero padding, not Sun) and the weighted sum is divided by the summed weights, so the result
has no seams. The probability map is then resampled back onto the input's own pixels. With a dust
map of the input's detector, sunspots called on dust are set aside (``sunspotter.solar.dust_map``). Last,
each spot's edge is settled by the image's own brightness (``sunspotter.solar.edges``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from sunspotter.io import pspt
from sunspotter.solar import catalog, edges, orientation
from sunspotter.solar.classical import normalise
from sunspotter.solar.dust_map import DustMap
from sunspotter.solar.segmentation import Segmentation
from sunspotter.solar.solar_image import SolarImage, as_red_contrast

PREDICT_BATCH = 32
#: Resampling closer to 1 than this is skipped: a fraction of a pixel across the disk.
SCALE_TOLERANCE = 1e-3


def _resample(data: np.ndarray, factors) -> np.ndarray:
    """Bilinear resampling by per-axis factors, pixel areas aligned (edges to edges, not centres to centres)."""
    return ndimage.zoom(data, factors, order=1, grid_mode=True, mode="nearest")


@dataclass
class FullDiskModel:
    """A tile localizer and what full-disk use of it needs to know about its training."""

    keras_model: object
    threshold: float  # probability at or above which a pixel is sunspot (chosen on val)
    arcsec_per_px: float  # plate scale of the training images
    tile_size: int = 128
    normalisation: str = "quiet_sun"  # as the training tiles were (tiles.normalise)
    overlap: int = 32  # pixels shared by neighbouring tiles (a quarter of a 128-pixel tile)
    dust_map: DustMap | None = None  # of the training archive's detector; used on frames from it
    edge_grow: float | None = None  # edges.refine's cuts (chosen on val); None: the network's own edges
    edge_trim: float | None = None
    tiles_run: int = field(default=0, init=False, compare=False)  # tiles the last image needed (benchmarks)

    def probability(self, image: SolarImage) -> np.ndarray:
        """Sunspot probability per pixel of ``image`` (0 off the disk and where mu < the archive's limb cut)."""
        zoom = image.arcsec_per_px / self.arcsec_per_px
        resample = abs(zoom - 1) > SCALE_TOLERANCE
        disk, data = image.disk, image.data
        if resample:
            shape = np.maximum(np.round(np.array(data.shape) * zoom), 1)
            factor_y, factor_x = shape / np.array(data.shape)
            data = _resample(data, (factor_y, factor_x))
            disk = disk.resampled(factor_x, factor_y)
        if not resample and self.normalisation == "quiet_sun":
            flat, mu = image.flattened()  # the image's own, shared with its catalog
        else:
            # As image.flattened() gives it: contrasts as in the red continuum the model was trained on.
            flat = as_red_contrast(normalise(data, disk, self.normalisation), image.wavelength_nm)
            mu = disk.mu(data.shape)
        probability = self._over_tiles(flat, mu > 0)
        probability[mu < pspt.LIMB_MU] = 0.0  # the masks it learned from never mark the limb
        if resample:
            probability = _resample(probability, np.array(image.data.shape) / np.array(probability.shape))
        return np.clip(probability, 0.0, 1.0)

    def segment(self, image: SolarImage) -> Segmentation:
        """The sunspot mask of ``image`` with what it came from.

        Sunspots called on the dust map's specks are left out of the mask (kept as ``dust``; they still show
        in the probability), and with edge cuts each spot's edge is settled by the image's brightness
        (``edges.refine``).

        Parameters
        ----------
        image : SolarImage
            Any full-disk continuum image, at any plate scale (it is resampled to the training one and the
            answer brought back to its own pixels).

        Returns
        -------
        Segmentation
            ``mask`` (uint8, 1 = sunspot), ``probability`` (float32) and ``dust`` (bool), all on
            ``image``'s pixels.
        """
        turns = orientation.quarter_turns(image)
        if not turns:
            return self._segment_as_stored(image)
        # Stored a quarter or half turn from north up (HMI: south up): the network sees it north up, as it learned.
        upright = self._segment_as_stored(orientation.turned(image, turns))
        return Segmentation(*(np.rot90(array, -turns).copy() for array in
                              (upright.mask, upright.probability, upright.dust)))

    def _segment_as_stored(self, image: SolarImage) -> Segmentation:
        probability = self.probability(image)
        dust = self.set_aside(image, probability)
        mask = ((probability >= self.threshold) & ~dust).astype(np.uint8)
        if self.edge_grow is not None and self.edge_trim is not None:
            contrast, mu = image.flattened()
            # The surroundings are the same stretch of Sun on any image: their widths scale with the image.
            mask = edges.refine(mask, probability, contrast, mu, self.edge_grow, self.edge_trim,
                                px_per_training_px=self.arcsec_per_px / image.arcsec_per_px)
        return Segmentation(mask, probability, dust)

    def mask(self, image: SolarImage) -> tuple[np.ndarray, np.ndarray]:
        """(binary sunspot mask as uint8, probability) on ``image``'s pixels (see ``segment``)."""
        segmentation = self.segment(image)
        return segmentation.mask, segmentation.probability

    def set_aside(self, image: SolarImage, probability: np.ndarray) -> np.ndarray:
        """The pixels called sunspot but set aside as lying on the dust map's specks (bool)."""
        called = probability >= self.threshold
        if self.dust_map is None or not self.dust_map.applies_to(image):
            return np.zeros_like(called)
        return called & ~self.dust_map.veto(called, catalog.umbra_pixels(image, called))

    def fingerprint(self) -> str:
        """A short hash of what decides the answers: weights, threshold, plate scale, tiling, edge cuts and dust
        map. Outputs record it, so ``predict --skip-existing`` knows whether the same model made them."""
        import hashlib

        digest = hashlib.sha256()
        for weights in self.keras_model.get_weights():
            digest.update(np.ascontiguousarray(weights).tobytes())
        settings = (self.threshold, self.arcsec_per_px, self.tile_size, self.normalisation, self.overlap,
                    self.edge_grow, self.edge_trim)
        digest.update(repr(settings).encode())
        if self.dust_map is not None:
            digest.update(np.packbits(self.dust_map.dusty).tobytes())
        return digest.hexdigest()[:16]

    def _window(self) -> np.ndarray:
        """Tile weights: 1 in the middle, falling linearly to near 0 over ``overlap`` pixels at each edge."""
        ramp = np.minimum(np.arange(self.tile_size) + 0.5, self.tile_size - np.arange(self.tile_size) - 0.5)
        edge = np.clip(ramp / max(self.overlap, 1), 0.0, 1.0).astype(np.float32)
        return np.outer(edge, edge)

    def _origins(self, length: int) -> list[int]:
        """Tile starts covering 0..length with ``overlap``; the last tile sits flush with the far edge."""
        if length <= self.tile_size:
            return [0]
        stride = max(self.tile_size - self.overlap, 1)
        starts = list(range(0, length - self.tile_size, stride))
        return starts + [length - self.tile_size]

    def _over_tiles(self, flat: np.ndarray, on_disk: np.ndarray) -> np.ndarray:
        size = self.tile_size
        pad = [(0, max(0, size - n)) for n in flat.shape]  # images smaller than a tile
        flat, on_disk = np.pad(flat, pad), np.pad(on_disk, pad)
        origins = [(r, c) for r in self._origins(flat.shape[0]) for c in self._origins(flat.shape[1])
                   if on_disk[r:r + size, c:c + size].any()]
        self.tiles_run = len(origins)
        total = np.zeros(flat.shape, np.float32)
        weight = np.zeros(flat.shape, np.float32)
        window = self._window()
        for start in range(0, len(origins), PREDICT_BATCH):
            batch = origins[start:start + PREDICT_BATCH]
            tiles = np.zeros((PREDICT_BATCH, size, size, 1), np.float32)
            tiles[: len(batch), ..., 0] = [flat[r:r + size, c:c + size] for r, c in batch]
            # Always one batch shape, so Keras's compiled predict step is traced once, not per image.
            scores = np.asarray(self.keras_model.predict_on_batch(tiles), np.float32)[: len(batch), ..., 0]
            for (r, c), score in zip(batch, scores):
                total[r:r + size, c:c + size] += score * window
                weight[r:r + size, c:c + size] += window
        probability = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)
        return probability[: flat.shape[0] - pad[0][1], : flat.shape[1] - pad[1][1]]
