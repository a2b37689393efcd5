"""Sunspotter: sunspot detection in full-disk solar images."""

__version__ = "0.1.0"
