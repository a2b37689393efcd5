"""Tile classifier: does this tile contain a sunspot? A strided stem, conv/max-pool blocks and a dense head."""

from __future__ import annotations

import keras
from keras import layers, ops

from sunspotter.models.inputs import quiet_sun_at_zero


def conv_bn_relu(x, filters: int, strides: int = 1):
    """3 x 3 convolution, batch normalisation, ReLU. Normalising each layer's output lets training start at once
    instead of idling for epochs near chance, as the plain convolutions did on these tiles. (The localizer keeps
    plain convolutions: see its module.)"""
    x = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_classifier(tile_size: int, filters: list[int], channels: int = 1) -> keras.Model:
    """Return an uncompiled model mapping a (tile, tile, channels) image to P(sunspot).

    ``filters[0]`` is the stem, a stride-2 convolution: the full-resolution layers were most of the cost
    (two convolutions, batch norm and ReLU over every pixel), and a spot a few pixels across still leaves
    its mark on the stem's half-resolution map. Each later width is one convolution and a 2 x 2 max pool.
    """
    inputs = keras.Input((tile_size, tile_size, channels), name="tile")
    x = conv_bn_relu(quiet_sun_at_zero(inputs), filters[0], strides=2)
    for n in filters[1:]:
        x = layers.MaxPooling2D()(conv_bn_relu(x, n))
    # Global max pooling: one dark spot anywhere in the tile is enough to say "yes".
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    # float32 output even under mixed precision: probabilities near 0 and 1 need the resolution.
    outputs = layers.Dense(1, activation="sigmoid", name="p_sunspot", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="sunspot_classifier")


def dihedral_mean(network: keras.Model) -> keras.Model:
    """``network`` as it is saved and scored: its P(sunspot) averaged over the tile's eight flips and quarter turns.

    A sunspot is one whichever way the tile is turned (training draws the same turns), but a trained network's
    answer on a faint or cut-off spot still moves with the turn; the average keeps what the eight agree on, at
    no training cost (README: the figures). A tile costs eight inferences, and only tiles are classified (whole
    images go to the localizer). Built of Keras ops alone, so the saved model loads without this package.
    """
    inputs = keras.Input(network.input_shape[1:], name="tile")
    mirrored = ops.transpose(inputs, (0, 2, 1, 3))
    views = [view for tile in (inputs, mirrored)
             for view in (tile, ops.flip(tile, 1), ops.flip(tile, 2), ops.flip(ops.flip(tile, 1), 2))]
    # One batch of all the views: one call of the network, then each tile's eight answers averaged.
    answers = network(ops.concatenate(views, axis=0))
    outputs = ops.mean(ops.reshape(answers, (len(views), -1, 1)), axis=0)
    return keras.Model(inputs, outputs, name="sunspot_classifier_dihedral")
