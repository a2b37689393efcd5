"""The synthetic Sun: a PSPT-like archive whose masks are exact by construction."""

from sunspotter.synth.archive import write_archive

__all__ = ["write_archive"]
