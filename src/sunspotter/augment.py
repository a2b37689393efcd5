"""Training-time augmentation that respects the physics of a full-disk tile.

A sunspot looks the same mirrored or turned by 90 degrees (tiles come from every position on the
disk, at every angle to the limb), so flips and quarter turns are free extra data; resampling by
other angles would blur the pixel grid the masks are drawn on, so it is not used. The brightness
of a whole frame varies a few percent with transparency and exposure, so the image (never the
mask) is scaled by a small random factor. Every draw is seeded from the seed and the tile's
position in the stream: the same seed gives the same training run.
"""

from __future__ import annotations


def augment_pair(index, image, target, seed: int, brightness: float, spatial_target: bool):
    """One tile's augmentation: the same flips and quarter turn on image and (for the localizer) mask."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.stack([tf.constant(seed, tf.int64), index]), num=4)
    flip_lr, flip_ud, turns, scale = seeds[0], seeds[1], seeds[2], seeds[3]

    def geometric(x):
        x = tf.cond(tf.random.stateless_uniform([], flip_lr) < 0.5, lambda: tf.image.flip_left_right(x), lambda: x)
        x = tf.cond(tf.random.stateless_uniform([], flip_ud) < 0.5, lambda: tf.image.flip_up_down(x), lambda: x)
        return tf.image.rot90(x, tf.random.stateless_uniform([], turns, 0, 4, dtype=tf.int32))

    factor = tf.random.stateless_uniform([], scale, 1.0 - brightness, 1.0 + brightness)
    image = geometric(image) * factor
    if spatial_target:
        target = geometric(target)
    return image, target


def augmented(ds, seed: int, brightness: float, spatial_target: bool):
    """``ds`` of (image, target) pairs, each tile flipped, turned and brightened at random (deterministically)."""
    import tensorflow as tf

    def apply(index, pair):
        return augment_pair(index, pair[0], pair[1], seed, brightness, spatial_target)

    return ds.enumerate().map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
