"""Spatial core of the emergency resource planning service (no web dependencies)."""

OSM_ATTRIBUTION = "© OpenStreetMap contributors"

__all__ = ["OSM_ATTRIBUTION"]
