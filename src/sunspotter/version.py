"""The package's version, from its one source: ``[project] version`` in pyproject.toml, as installed."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("sunspotter")
except PackageNotFoundError:  # a source tree on PYTHONPATH that was never installed
    VERSION = "0+unknown"
