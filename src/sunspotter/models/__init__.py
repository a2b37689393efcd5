"""Keras model builders: small functions that return an uncompiled ``keras.Model``."""

from sunspotter.models.classifier import build_classifier
from sunspotter.models.localizer import build_localizer

BUILDERS = {"classifier": build_classifier, "localizer": build_localizer}

__all__ = ["BUILDERS", "build_classifier", "build_localizer"]
