"""crs-cds: a CDS Hooks 2.0 service for cytokine release syndrome (CRS) decision support."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crs-cds")  # one source of truth: pyproject.toml, read from the installed metadata
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
