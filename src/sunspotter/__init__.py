"""Sunspotter: sunspot detection in full-disk solar images.

``sunspotter.detect(image)`` finds the sunspots of one image (``sunspotter.api``); the command line is
``sunspotter`` (``sunspotter.cli``).
"""

from sunspotter.version import VERSION as __version__

__all__ = ["Detection", "__version__", "detect"]


def __getattr__(name: str):
    # The API is loaded on first use: `import sunspotter` stays light (the CLI's --version, the stages' config).
    if name in ("detect", "Detection"):
        from sunspotter import api

        return getattr(api, name)
    raise AttributeError(f"module 'sunspotter' has no attribute {name!r}")
