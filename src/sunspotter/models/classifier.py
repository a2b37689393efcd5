"""Tile classifier: does this tile contain a sunspot? Conv/MaxPool blocks and a dense head, as in the original."""

from __future__ import annotations

import keras
from keras import layers


def conv_bn_relu(x, filters: int):
    """3 x 3 convolution, batch normalisation, ReLU. Normalising each layer's output lets training start at once
    instead of idling for epochs near chance, as the plain convolutions did on these tiles. (The localizer keeps
    plain convolutions: see its module.)"""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_classifier(tile_size: int, filters: list[int], channels: int = 1) -> keras.Model:
    """Return an uncompiled model mapping a (tile, tile, channels) image to P(sunspot)."""
    inputs = keras.Input((tile_size, tile_size, channels), name="tile")
    x = inputs
    for n in filters:
        x = conv_bn_relu(conv_bn_relu(x, n), n)
        x = layers.MaxPooling2D()(x)
    # Global max pooling: one dark spot anywhere in the tile is enough to say "yes".
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    # float32 output even under mixed precision: probabilities near 0 and 1 need the resolution.
    outputs = layers.Dense(1, activation="sigmoid", name="p_sunspot", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="sunspot_classifier")
