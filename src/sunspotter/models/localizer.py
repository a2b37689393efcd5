"""Pixel localizer: a small U-Net that gives each pixel a probability of being sunspot."""

from __future__ import annotations

import keras
from keras import layers


def _block(x, n: int):
    # No batch normalisation here, unlike the classifier: on near-uniform quiet-Sun tiles the first layers'
    # running variances are tiny, so a small shift in their means (weights still moving, brightness
    # augmentation) is amplified twentyfold at inference, and whole validation epochs called every pixel sunspot.
    x = layers.Conv2D(n, 3, padding="same", activation="relu")(x)
    return layers.Conv2D(n, 3, padding="same", activation="relu")(x)


def build_localizer(tile_size: int, filters: list[int], channels: int = 1) -> keras.Model:
    """Return an uncompiled encoder-decoder; input and output are (tile, tile, channels) and (tile, tile, 1)."""
    inputs = keras.Input((tile_size, tile_size, channels), name="tile")
    skips, x = [], inputs
    for n in filters[:-1]:
        x = _block(x, n)
        skips.append(x)
        x = layers.MaxPooling2D()(x)
    x = _block(x, filters[-1])
    for n, skip in zip(reversed(filters[:-1]), reversed(skips)):
        x = layers.Conv2DTranspose(n, 2, strides=2, padding="same")(x)
        x = _block(layers.Concatenate()([x, skip]), n)
    # float32 output even under mixed precision: probabilities near 0 and 1 need the resolution.
    outputs = layers.Conv2D(1, 1, activation="sigmoid", name="p_sunspot", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="sunspot_localizer")
