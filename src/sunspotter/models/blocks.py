"""Layer blocks the model builders share."""

from __future__ import annotations

from keras import layers


def conv_bn_relu(x, filters: int):
    """3 x 3 convolution, batch normalisation, ReLU. Normalising each layer's output lets training start at once
    instead of idling for epochs near chance, as the plain convolutions did on these tiles."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)
