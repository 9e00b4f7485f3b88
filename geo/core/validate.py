"""Argument checks shared by the analyses; each error names the argument and what is allowed."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from numbers import Real
from typing import Any

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


def check_choice(name: str, value, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(f"{name}: {value!r} is not one of {', '.join(allowed)}")


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)


def is_finite_number(value) -> bool:
    """Whether ``value`` is a finite real number (not a flag; an int too large for a float,
    such as 10**400, is not)."""
    try:
        return _is_number(value) and math.isfinite(value)
    except OverflowError:
        return False


def check_cutoff(name: str, value) -> float:
    """A search bound: a non-negative number (``inf`` allowed), or None for none (→ ``inf``)."""
    if value is None:
        return np.inf
    if not (_is_number(value) and value >= 0):
        raise ValidationError(f"{name}: expected a non-negative number or None, got {value!r}")
    return float(value)


def check_positive(name: str, value) -> float:
    """A finite, positive number."""
    if not (is_finite_number(value) and value > 0):
        raise ValidationError(f"{name}: expected a finite, positive number, got {value!r}")
    return float(value)


def per_point_costs(name: str, values, n: int) -> np.ndarray | None:
    """One finite, non-negative value per point (or None)."""
    if values is None:
        return None
    array = np.asarray(values, dtype=float)
    if array.shape != (n,) or not (np.isfinite(array).all() and (array >= 0).all()):
        raise ValidationError(f"{name}: expected one finite, non-negative value per point ({n})")
    return array


def lonlat_points(features, *, name: str = "features") -> tuple[list, np.ndarray, np.ndarray]:
    """(ids, lon, lat) of a GeoDataFrame (points, or a point inside each polygon; any CRS,
    converted to EPSG:4326) or of (lon, lat) arrays; errors name the argument ``name``.

    Empty geometries give NaN coordinates: see :func:`check_coordinates`."""
    if _is_geodataframe(features):
        crs = features.crs  # (each read of a frame's CRS or geometry costs tens of µs)
        if crs is None:
            raise ValidationError(f"{name}: the GeoDataFrame has no CRS (expected EPSG:4326)")
        geometry = features.geometry
        if crs.to_epsg() != 4326:
            geometry = geometry.to_crs("EPSG:4326")
        geoms = geometry.to_numpy()
        lon, lat = shapely.get_x(geoms), shapely.get_y(geoms)  # NaN for non-points
        other = np.isnan(lon) & ~shapely.is_empty(geoms)
        if other.any():
            inner = shapely.point_on_surface(geoms[other])
            lon[other], lat[other] = shapely.get_x(inner), shapely.get_y(inner)
        return list(features.index), lon, lat
    lon, lat = _lonlat_arrays(features, name)
    return list(range(len(lon))), lon, lat


def _is_geodataframe(value) -> bool:
    """Whether ``value`` is a GeoDataFrame, found without importing geopandas (with pandas, the
    bulk of a route's start-up): a value can only be one once geopandas is loaded."""
    geopandas = sys.modules.get("geopandas")
    return geopandas is not None and isinstance(value, geopandas.GeoDataFrame)


def _lonlat_arrays(features, name: str) -> tuple[np.ndarray, np.ndarray]:
    expected = f"{name}: expected a GeoDataFrame or a pair of equally long (lon, lat) arrays"
    try:
        lon, lat = features
        arrays = [np.atleast_1d(np.asarray(a, dtype=float)) for a in (lon, lat)]
    except (TypeError, ValueError):
        raise ValidationError(expected) from None
    if arrays[0].ndim != 1 or arrays[0].shape != arrays[1].shape:
        raise ValidationError(expected)
    return arrays[0], arrays[1]


def check_coordinates(name: str, lon: np.ndarray, lat: np.ndarray, ids: Any = None) -> None:
    """Raise naming ``name`` and the first bad point unless every lon/lat is a finite number in
    range (an empty geometry gives NaN). ``ids`` label the points in the message."""
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.argmax(bad))
        label = ids[i] if ids is not None else i
        raise ValidationError(
            f"{name}: point {label!r} has no usable coordinates (lon {lon[i]!r}, lat {lat[i]!r}; "
            f"expected longitude -180..180 and latitude -90..90); {int(bad.sum())} bad point(s)")


def check_count(name: str, value) -> int:
    """A positive whole number (a ``k``, a count of results)."""
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"{name}: expected a positive whole number, got {value!r}")
    return int(value)


def require_columns(frame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ValidationError(f"{name}: missing column(s) {', '.join(missing)}")
