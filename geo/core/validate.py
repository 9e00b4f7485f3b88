"""Argument checks shared by the analyses; each error names the argument and what is allowed."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import ValidationError


def check_breaks(breaks) -> np.ndarray:
    """Positive, finite breaks, sorted and unique."""
    values = np.atleast_1d(np.asarray(breaks, dtype=float))
    if len(values) == 0 or not (np.isfinite(values).all() and (values > 0).all()):
        got = list(np.atleast_1d(breaks))
        raise ValidationError(f"breaks: expected positive numbers, got {got}")
    return np.unique(values)


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValidationError(f"{name}: {value!r} is not one of {', '.join(allowed)}")


def per_point_costs(name: str, values, n: int) -> np.ndarray | None:
    """One finite, non-negative value per point (or None)."""
    if values is None:
        return None
    array = np.asarray(values, dtype=float)
    if array.shape != (n,) or not (np.isfinite(array).all() and (array >= 0).all()):
        raise ValidationError(f"{name}: expected one finite, non-negative value per point ({n})")
    return array


def lonlat_points(features) -> tuple[list, np.ndarray, np.ndarray]:
    """(ids, lon, lat) of a GeoDataFrame (points, or a point inside each polygon; EPSG:4326) or
    of (lon, lat) arrays."""
    if isinstance(features, gpd.GeoDataFrame):
        if features.crs is None:
            raise ValidationError("features: the GeoDataFrame has no CRS (expected EPSG:4326)")
        geometry = features.geometry
        if features.crs.to_epsg() != 4326:
            geometry = geometry.to_crs("EPSG:4326")
        geoms = geometry.to_numpy()
        lon, lat = shapely.get_x(geoms), shapely.get_y(geoms)  # NaN for non-points
        other = np.isnan(lon) & ~shapely.is_empty(geoms)
        if other.any():
            inner = shapely.point_on_surface(geoms[other])
            lon[other], lat[other] = shapely.get_x(inner), shapely.get_y(inner)
        return list(features.index), lon, lat
    lon, lat = (np.atleast_1d(np.asarray(a, dtype=float)) for a in features)
    return list(range(len(lon))), lon, lat
