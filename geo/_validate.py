"""Argument checks shared by the analyses; each error names the argument and what is allowed."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo.errors import ValidationError


def check_breaks(breaks) -> np.ndarray:
    """Positive, finite breaks, sorted and unique."""
    values = np.atleast_1d(np.asarray(breaks, dtype=float))
    if len(values) == 0 or not (np.isfinite(values).all() and (values > 0).all()):
        raise ValidationError(f"breaks: expected positive numbers, got {list(np.atleast_1d(breaks))}")
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
    """(ids, lon, lat) of a GeoDataFrame (representative points, EPSG:4326) or (lon, lat) arrays."""
    if isinstance(features, gpd.GeoDataFrame):
        if features.crs is None:
            raise ValidationError("features: the GeoDataFrame has no CRS (expected EPSG:4326)")
        points = features.geometry.to_crs("EPSG:4326").representative_point()
        return list(features.index), points.x.to_numpy(), points.y.to_numpy()
    lon, lat = (np.atleast_1d(np.asarray(a, dtype=float)) for a in features)
    return list(range(len(lon))), lon, lat
