"""Keras model builders: small functions that return an uncompiled ``keras.Model``."""

from sunspotter.models.classifier import build_classifier, dihedral_mean
from sunspotter.models.localizer import build_localizer

BUILDERS = {"classifier": build_classifier, "localizer": build_localizer}


def for_inference(kind: str, network):
    """The trained network as it is scored and saved: the classifier averaged over a tile's flips and turns
    (``dihedral_mean``); the localizer as it is, since whole images are its use and eight passes would cost
    eight times over."""
    return dihedral_mean(network) if kind == "classifier" else network


__all__ = ["BUILDERS", "build_classifier", "build_localizer", "dihedral_mean", "for_inference"]
