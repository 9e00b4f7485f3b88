"""Coordinate reference systems: the metric CRS of a region, and guards for metric work."""

from __future__ import annotations


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (WGS84) of a point, as an EPSG code string."""
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"

