"""What both networks do to a tile before their first convolution."""

from __future__ import annotations

from keras import layers


def quiet_sun_at_zero(tile):
    """The tile shifted so that the quiet Sun, 1 in the tiles' scaling (sky 0), is 0.

    A 3 x 3 convolution pads a tile's edge with zeros: unshifted, that is a dark frame around every tile, and
    a spot's sliver at the edge, or the limb, sat against an edge the networks first had to learn to ignore.
    Shifted, the padding reads as more quiet Sun. On the default archive the localizer's best val Dice went
    0.877 -> 0.902 and the classifier's val AUC stopped jumping between epochs (0.86-0.98 late in training).
    In float32 under mixed precision too: a spot's contrast is then cast to float16 as a small number, which
    float16 holds far more finely than the same contrast near 1.
    """
    return layers.Rescaling(1.0, offset=-1.0, name="quiet_sun_at_zero", dtype="float32")(tile)
