"""Small overlays shared by the analyses."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import ValidationError


def sum_within(polygons: np.ndarray, crs, weighted: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """For each polygon (in ``crs``), the sum of ``weighted[column]`` over the features whose
    representative point lies in it."""
    if column not in weighted:
        raise ValidationError(f"population: missing column {column!r}")
    points = weighted.geometry.to_crs(crs).representative_point().to_numpy()
    weights = weighted[column].to_numpy(dtype=float)
    polygon_index, point_index = shapely.STRtree(points).query(polygons, predicate="intersects")
    return np.bincount(polygon_index, weights=weights[point_index], minlength=len(polygons))
