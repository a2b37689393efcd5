"""The old home of the full-disk pyfunc class, kept because registry versions saved before the package
move pickle it by this path (``sunspotter.serving.FullDiskLocalizer``); new versions record its real home."""

from sunspotter.lifecycle.pyfunc import FullDiskLocalizer

__all__ = ["FullDiskLocalizer"]
