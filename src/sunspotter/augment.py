"""Training-time augmentation that respects the physics of a full-disk tile.

A sunspot looks the same mirrored or turned by 90 degrees (tiles come from every position on the
disk, at every angle to the limb), so flips and quarter turns are free extra data; resampling by
other angles would blur the pixel grid the masks are drawn on, so it is not used. The brightness
of a whole frame varies a few percent with transparency and exposure, so the image (never the
mask) is scaled by a small random factor. Seeing blurs the image and not the Sun: with
``seeing_blur`` set, half the tiles are blurred by a Gaussian of random width (the mask, drawn on the
Sun itself, stays sharp), so a model meets many more bad-seeing frames than the archive holds and
learns the spots' true extent from smeared ones. Every draw is seeded from the seed and the tile's
position in the stream: the same seed gives the same training run.
"""

from __future__ import annotations


#: Narrowest extra blur drawn (sigma, px): below it a blur changes nothing a convolution would notice.
MIN_BLUR_PX = 0.5


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


def augment_pair(index, image, target, seed: int, brightness: float, spatial_target: bool,
                 seeing_blur: float = 0.0):
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
    if seeing_blur > 0:
        # Its own stream, folded from the tile's: the flips and brightness stay as without blur.
        blurs, width = tf.unstack(tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(scale, 1), num=2))
        sigma = tf.random.stateless_uniform([], width, MIN_BLUR_PX, max(seeing_blur, MIN_BLUR_PX))
        reach = int(3 * seeing_blur + 1)
        image = tf.cond(tf.random.stateless_uniform([], blurs) < 0.5, lambda: seeing(image, sigma, reach), lambda: image)
    if spatial_target:
        target = geometric(target)
    return image, target


def augmented(ds, seed: int, brightness: float, spatial_target: bool, seeing_blur: float = 0.0):
    """``ds`` of (image, target) pairs, each tile flipped, turned, brightened and (with ``seeing_blur``)
    blurred at random (deterministically)."""
    import tensorflow as tf

    def apply(index, pair):
        return augment_pair(index, pair[0], pair[1], seed, brightness, spatial_target, seeing_blur)

    return ds.enumerate().map(apply, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
