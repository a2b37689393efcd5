"""Pixel localizer: a small U-Net that gives each pixel a probability of being sunspot."""

from __future__ import annotations

import keras
from keras import layers

from sunspotter.models.inputs import quiet_sun_at_zero


def _conv(x, n: int):
    # No batch normalisation here, unlike the classifier: on near-uniform quiet-Sun tiles the first layers'
    # running variances are tiny, so a small shift in their means (weights still moving, brightness
    # augmentation) is amplified twentyfold at inference, and whole validation epochs called every pixel sunspot.
    return layers.Conv2D(n, 3, padding="same", activation="relu")(x)


def _block(x, n: int):
    return _conv(_conv(x, n), n)


def build_localizer(tile_size: int, filters: list[int], channels: int = 1) -> keras.Model:
    """Return an uncompiled encoder-decoder; input and output are (tile, tile, channels) and (tile, tile, 1).

    The full-resolution path is thin: one convolution of ``filters[0]`` channels on the way in and one on
    the way out, where the plain U-Net ran four of its first width over every pixel (half its cost). Edges
    are settled there from the fine skip and the upsampled coarse features; the deeper levels
    (``filters[1:]``, two convolutions each) see the spot as a whole.
    """
    inputs = keras.Input((tile_size, tile_size, channels), name="tile")
    x = _conv(quiet_sun_at_zero(inputs), filters[0])
    skips = [x]
    x = layers.MaxPooling2D()(x)
    for n in filters[1:-1]:
        x = _block(x, n)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    x = _block(x, filters[-1])
    for n, skip in zip(reversed(filters[:-1]), reversed(skips)):
        x = layers.Conv2DTranspose(n, 2, strides=2, padding="same")(x)
        x = layers.Concatenate()([x, skip])
        x = _conv(x, n) if skip is skips[0] else _block(x, n)
    # float32 output even under mixed precision: probabilities near 0 and 1 need the resolution.
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="p_sunspot", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="sunspot_localizer")
