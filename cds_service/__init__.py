"""crs-cds: a CDS Hooks 2.0 service for cytokine release syndrome (CRS) decision support."""

__version__ = "0.1.0"
