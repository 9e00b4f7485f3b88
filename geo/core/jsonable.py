"""The one converter from the values analyses and the registry hold to plain JSON values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry


def jsonable(value: Any, *, geometry: Literal["geojson", "wkt"] = "geojson") -> Any:
    """``value`` with numpy scalars and arrays, shapely geometries (as a GeoJSON mapping, or WKT),
    times and durations (ISO 8601) and containers turned into plain JSON values; NaN and missing
    become None (JSON has no NaN)."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        # .item() would give nanoseconds as a bare int: convert through pandas instead.
        return jsonable(pd.Timestamp(value) if isinstance(value, np.datetime64)
                        else pd.Timedelta(value), geometry=geometry)
    if isinstance(value, np.generic):
        return jsonable(value.item(), geometry=geometry)
    if isinstance(value, BaseGeometry):
        return _geojson(value) if geometry == "geojson" else value.wkt
    if isinstance(value, datetime | date | pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, timedelta):  # pd.Timedelta too: an ISO 8601 duration
        return None if pd.isna(value) else pd.Timedelta(value).isoformat()
    if isinstance(value, Mapping):
        if _COORDINATES in value and value.get("type") in _SIMPLE_GEOMETRIES:
            return _geometry_mapping(value)
        return {str(k): jsonable(v, geometry=geometry) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        return [jsonable(v, geometry=geometry) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# A route or an area holds thousands of coordinates: converted as one array rather than one
# recursive call per number (the bulk of a dispatch answer's cost before).
_COORDINATES = "coordinates"
_SIMPLE_GEOMETRIES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString",
                                "Polygon", "MultiPolygon"})


def _geojson(geometry: BaseGeometry) -> dict:
    return _geometry_mapping(shapely.geometry.mapping(geometry))


def _geometry_mapping(value: Mapping) -> dict:
    """A GeoJSON geometry mapping with plain coordinates (NaN and infinities as None, as
    everywhere else)."""
    return {**{str(k): jsonable(v) for k, v in value.items() if k != _COORDINATES},
            _COORDINATES: _coordinates(value[_COORDINATES])}


def _coordinates(nested) -> list:
    try:
        array = np.asarray(nested, dtype=float)
    except ValueError:  # ragged: rings or parts of different lengths
        return [_coordinates(part) for part in nested]
    if not np.isfinite(array).all():
        return jsonable(array.tolist())
    return array.tolist()
