"""Judging detectors: overlap metrics, tile and whole-image scoring, the classical baseline, figures."""
