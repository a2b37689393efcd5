"""Training-time augmentation that respects the physics of a full-disk tile.

A sunspot looks the same mirrored or turned by 90 degrees (tiles come from every position on the
disk, at every angle to the limb), so flips and quarter turns are free extra data; resampling by
other angles would blur the pixel grid the masks are drawn on, so it is not used. The brightness
of a whole frame varies a few percent with transparency and exposure, so the image (never the
mask) is scaled by a small random factor. Seeing blurs the image and not the Sun: with
``seeing_blur`` set, half the tiles are blurred by a Gaussian of random width (the mask, drawn on the
Sun itself, stays sharp), so a model meets many more bad-seeing frames than the archive holds and
learns the spots' true extent from smeared ones.

Users bring other instruments (``synth.instruments``, the ``profiles`` stage): coarser plate scales that
inference resamples up to the training scale, 8-bit JPEG quick-looks whose blocks ring at the limb, other
wavelengths whose spot contrast the Wien conversion only approximates. With ``quicklook_fraction`` set, that
share of the tiles is recorded at a plate scale coarser by a factor up to ``quicklook_scale`` (area-binned,
as a coarse pixel integrates), half of them as an 8-bit JPEG, and resampled back bilinearly, as inference
resamples; the mask stays at the training scale, where the answer is wanted. With ``contrast_gamma``, every
contrast is raised to a power within 1 +- ``contrast_gamma`` (quiet Sun stays 1, spots get darker or paler).

Every draw is seeded from the seed and the tile's position in the stream: the same seed gives the same
training run, and a setting left off changes no other draw.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

#: Narrowest extra blur drawn (sigma, px): below it a blur changes nothing a convolution would notice.
MIN_BLUR_PX = 0.5
#: Least coarsening of a quick-look tile: finer steps are within the resampling tolerance of inference.
MIN_QUICKLOOK_SCALE = 1.5
#: 8-bit counts of the quiet Sun in a quick-look (its whole-disk peak near 255, the limb about a third of it),
#: and the JPEG qualities drawn (75 is a common default of picture libraries).
QUICKLOOK_QUIET_SUN_COUNTS, QUICKLOOK_JPEG_QUALITY = (80.0, 240.0), (50, 95)


@dataclass(frozen=True)
class Augmentation:
    """What is done to training tiles besides flips and quarter turns (see the module's text)."""

    brightness: float = 0.0
    seeing_blur: float = 0.0
    quicklook_fraction: float = 0.0
    quicklook_scale: float = 1.0
    contrast_gamma: float = 0.0

    @classmethod
    def of(cls, settings: Mapping) -> "Augmentation | None":
        """From a model's train settings in params.yaml (older ones, without the later keys, too); None when
        they switch augmentation off."""
        if not settings["augment"]:
            return None
        return cls(**{field.name: settings[field.name] for field in fields(cls) if field.name in settings})


def seeing(image, sigma, reach: int):
    """``image`` (height, width, channels) blurred by a Gaussian of ``sigma`` px, cut at ``reach`` px;
    edges mirrored, so a tile's border does not darken."""
    import tensorflow as tf

    offsets = tf.range(-reach, reach + 1, dtype=tf.float32)
    weights = tf.exp(-0.5 * tf.square(offsets / sigma))
    weights /= tf.reduce_sum(weights)
    channels = image.shape[-1]
    rows = tf.tile(tf.reshape(weights, [-1, 1, 1, 1]), [1, 1, channels, 1])
    cols = tf.tile(tf.reshape(weights, [1, -1, 1, 1]), [1, 1, channels, 1])
    padded = tf.pad(image[None], [[0, 0], [reach, reach], [reach, reach], [0, 0]], mode="REFLECT")
    blurred = tf.nn.depthwise_conv2d(padded, rows, [1, 1, 1, 1], "VALID")
    return tf.nn.depthwise_conv2d(blurred, cols, [1, 1, 1, 1], "VALID")[0]


def quicklook(image, scale, quality, quiet_sun_counts, jpeg):
    """``image`` (height, width, channels; the quiet Sun 1) as recorded ``scale`` times coarser, as 8-bit
    JPEG at ``quality`` with the quiet Sun at ``quiet_sun_counts`` when ``jpeg``, resampled back."""
    import tensorflow as tf

    size = list(image.shape[:2])
    coarse = tf.maximum(tf.cast(tf.round(tf.constant(size, tf.float32) / scale), tf.int32), 1)
    small = tf.image.resize(image, coarse, method="area")

    def compressed(x):
        counts = tf.clip_by_value(x * quiet_sun_counts / 255.0, 0.0, 1.0)
        channels = [tf.image.adjust_jpeg_quality(counts[..., c:c + 1], quality) for c in range(image.shape[-1])]
        return tf.concat(channels, axis=-1) * 255.0 / quiet_sun_counts

    small = tf.cond(jpeg, lambda: compressed(small), lambda: small)
    return tf.image.resize(small, size, method="bilinear")


def contrast_power(image, gamma):
    """Each contrast raised to ``gamma``: the quiet Sun (1) and the sky (0 or below) stay where they are."""
    import tensorflow as tf

    return tf.where(image > 0, tf.pow(tf.maximum(image, 1e-6), gamma), image)


def augment_pair(index, image, target, seed: int, settings: Augmentation, spatial_target: bool):
    """One tile's augmentation: the same flips and quarter turn on image and (for the localizer) mask."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.stack([tf.constant(seed, tf.int64), index]), num=4)
    flip_lr, flip_ud, turns, scale = seeds[0], seeds[1], seeds[2], seeds[3]

    def geometric(x):
        x = tf.cond(tf.random.stateless_uniform([], flip_lr) < 0.5, lambda: tf.image.flip_left_right(x), lambda: x)
        x = tf.cond(tf.random.stateless_uniform([], flip_ud) < 0.5, lambda: tf.image.flip_up_down(x), lambda: x)
        return tf.image.rot90(x, tf.random.stateless_uniform([], turns, 0, 4, dtype=tf.int32))

    factor = tf.random.stateless_uniform([], scale, 1.0 - settings.brightness, 1.0 + settings.brightness)
    image = geometric(image) * factor
    seeing_blur = settings.seeing_blur
    if seeing_blur > 0:
        # Its own stream, folded from the tile's: the flips and brightness stay as without blur.
        blurs, width = tf.unstack(tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(scale, 1), num=2))
        sigma = tf.random.stateless_uniform([], width, MIN_BLUR_PX, max(seeing_blur, MIN_BLUR_PX))
        reach = int(3 * seeing_blur + 1)
        image = tf.cond(tf.random.stateless_uniform([], blurs) < 0.5, lambda: seeing(image, sigma, reach), lambda: image)
    if settings.quicklook_fraction > 0:
        chosen, coarseness, quality, counts, jpeg = tf.unstack(tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(scale, 2), num=5))
        scale_factor = tf.exp(tf.random.stateless_uniform(
            [], coarseness, np.log(MIN_QUICKLOOK_SCALE), np.log(max(settings.quicklook_scale, MIN_QUICKLOOK_SCALE))))
        recorded = functools.partial(
            quicklook, image, scale_factor,
            tf.random.stateless_uniform([], quality, QUICKLOOK_JPEG_QUALITY[0], QUICKLOOK_JPEG_QUALITY[1] + 1, tf.int32),
            tf.random.stateless_uniform([], counts, *QUICKLOOK_QUIET_SUN_COUNTS),
            tf.random.stateless_uniform([], jpeg) < 0.5)
        image = tf.cond(tf.random.stateless_uniform([], chosen) < settings.quicklook_fraction, recorded, lambda: image)
    if settings.contrast_gamma > 0:
        power = tf.random.experimental.stateless_fold_in(scale, 3)
        image = contrast_power(image, tf.random.stateless_uniform(
            [], power, 1.0 - settings.contrast_gamma, 1.0 + settings.contrast_gamma))
    if spatial_target:
        target = geometric(target)
    return image, target


def augmented(ds, seed: int, settings: Augmentation, spatial_target: bool):
    """``ds`` of (image, target) pairs, each tile flipped, turned and changed as ``settings`` say, at random
    (deterministically)."""
    import tensorflow as tf

    def apply(index, pair):
        return augment_pair(index, pair[0], pair[1], seed, settings, spatial_target)

    return ds.enumerate().map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
