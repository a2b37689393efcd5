"""Losses and metrics for rare positives: sunspot pixels are a few percent of a tile at most."""

from __future__ import annotations

import keras
from keras import ops

from sunspotter.io.pspt import UNLABELLED

SMOOTH = 1.0


def labelled(y_true, y_pred):
    """Truth (1 where a sunspot) and prediction, both zeroed on UNLABELLED pixels: there they add nothing to
    either loss term or to the Dice score, and their gradient is zero."""
    known = ops.cast(ops.not_equal(y_true, UNLABELLED), y_pred.dtype)
    return ops.cast(ops.equal(y_true, 1), y_pred.dtype), y_pred * known


def soft_dice(y_true, y_pred):
    """Soft Dice over the whole batch, so tiles with no spot do not each score a meaningless 0 or 1."""
    y_true = ops.cast(y_true, y_pred.dtype)
    overlap = ops.sum(y_true * y_pred)
    return (2.0 * overlap + SMOOTH) / (ops.sum(y_true) + ops.sum(y_pred) + SMOOTH)


def cross_entropy(focal_gamma: float):
    """Binary cross-entropy, focal when ``focal_gamma`` > 0: confident right answers count less, so the rare hard
    cases (a dust speck that looks like a pore, a spot under cloud) carry more of the gradient. 0 is plain BCE."""
    if focal_gamma == 0:
        # Not the focal loss with gamma 0: its (1 - p)^0 has a NaN gradient where a prediction saturates at 1.
        return keras.losses.BinaryCrossentropy(name="cross_entropy")
    return keras.losses.BinaryFocalCrossentropy(gamma=focal_gamma, name="cross_entropy")


def _box(image, size: int, combine):
    """``combine`` (``ops.add`` or ``ops.maximum``) over each pixel's ``size`` x ``size`` box, zeros beyond the
    tile, as shifted copies along rows then columns: a few elementwise passes, 8 ms for a batch of 16 on a
    2-core CPU, where TensorFlow's pooling ops took 88 ms."""
    half = size // 2
    for axis in (1, 2):
        padding = [(0, 0)] * 4
        padding[axis] = (half, half)
        padded = ops.pad(image, padding)
        window = [slice(None)] * 4
        combined = None
        for start in range(size):
            # The copy shifted by `start`, as long as the image (no static length needed).
            window[axis] = slice(start, start - (size - 1) or None)
            shifted = padded[tuple(window)]
            combined = shifted if combined is None else combine(combined, shifted)
        image = combined
    return image


def small_spot_weights(truth, weight: float):
    """Each pixel's weight in the cross-entropy: 1, plus ``weight`` times the isolation of the spot pixels within
    2 pixels of it. A spot pixel's isolation is the share of its 9 x 9 neighbourhood that is not spot: about 0.9
    for a pore of a few pixels, about 0.5 on a large spot's edge, 0 inside it.

    Pores are a few pixels among a large spot's thousands, so the plain loss barely sees them, yet each one
    can link two spots into one region or be a region of its own: missing them splits regions, and drawing
    them three pixels wide lists a pore too small to list. Weighing both the pore and its rim makes both
    mistakes cost; the rim is 2 pixels, the blur of ordinary seeing."""
    # The share is of the neighbourhood's pixels on the tile: what lies beyond the tile's edge is not known.
    on_tile = _box(ops.ones_like(truth[:1]), 9, ops.add)
    isolation = truth * (1.0 - _box(truth, 9, ops.add) / on_tile)
    return 1.0 + weight * _box(isolation, 5, ops.maximum)


class DiceCrossEntropy(keras.losses.Loss):
    """Cross-entropy keeps gradients alive early on; the Dice term stops the empty-mask answer from winning.
    ``small_spot_weight`` > 0 weighs the cross-entropy of pores and their rims more (``small_spot_weights``)."""

    def __init__(self, focal_gamma: float = 0.0, small_spot_weight: float = 0.0, name: str = "dice_cross_entropy",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.focal_gamma = focal_gamma
        self.small_spot_weight = small_spot_weight
        self.cross_entropy = cross_entropy(focal_gamma)

    def call(self, y_true, y_pred):
        y_true, y_pred = labelled(y_true, y_pred)
        # The cross-entropy averages over the channel axis: its weights are per pixel.
        weights = ops.squeeze(small_spot_weights(y_true, self.small_spot_weight), -1) if self.small_spot_weight else None
        return self.cross_entropy(y_true, y_pred, sample_weight=weights) + (1.0 - soft_dice(y_true, y_pred))

    def get_config(self):
        return super().get_config() | {"focal_gamma": self.focal_gamma, "small_spot_weight": self.small_spot_weight}


class DiceScore(keras.metrics.Metric):
    """Pixel Dice at a 0.5 cut over the labelled pixels, accumulated over the epoch."""

    def __init__(self, name: str = "dice", threshold: float = 0.5, **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.overlap = self.add_variable(shape=(), initializer="zeros", name="overlap")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth, y_pred = labelled(y_true, y_pred)
        truth, guess = ops.cast(truth, "float32"), ops.cast(y_pred > self.threshold, "float32")
        self.overlap.assign_add(ops.sum(truth * guess))
        self.total.assign_add(ops.sum(truth) + ops.sum(guess))

    def result(self):
        return ops.where(self.total > 0, 2.0 * self.overlap / ops.maximum(self.total, 1.0), 1.0)

    def reset_state(self):
        self.overlap.assign(0.0)
        self.total.assign(0.0)
