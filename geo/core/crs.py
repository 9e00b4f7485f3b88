"""Coordinate reference systems: the metric CRS of a region, and the guards every metric
computation goes through (GeoPandas' ``check_geographic_crs`` is the model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyproj import CRS

from geo.errors import ValidationError

if TYPE_CHECKING:
    import geopandas as gpd


def utm_crs(lon: float, lat: float) -> str:
    """The UTM zone (WGS84) of a point, as an EPSG code string."""
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def check_projected(crs, *, field: str) -> None:
    """Refuse a geographic CRS (or none) where distances and radii are metres."""
    parsed = None if crs is None else CRS.from_user_input(crs)
    if parsed is None or parsed.is_geographic:
        raise ValidationError(f"{field}: {crs or 'no CRS'} is not a projected CRS; metric work "
                              "(radii, buffers, distances in metres) needs one, such as the "
                              "network's UTM zone")


def to_crs(frame: gpd.GeoDataFrame, crs, *, field: str) -> gpd.GeoDataFrame:
    """``frame`` in ``crs``; a frame without a CRS is refused rather than guessed."""
    if frame.crs is None:
        raise ValidationError(f"{field}: the features have no CRS; set one (EPSG:4326 for "
                              "lon/lat)")
    return frame if frame.crs == CRS.from_user_input(crs) else frame.to_crs(crs)
