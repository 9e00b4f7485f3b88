"""GeoJSON sent in a request body as the GeoDataFrames the application layer takes."""

from __future__ import annotations

import geopandas as gpd
import shapely

from geo.errors import ValidationError
from web.schemas import FeatureCollectionIn


def frame(collection: FeatureCollectionIn | None, *, field: str) -> gpd.GeoDataFrame | None:
    """The features (EPSG:4326, RFC 7946) with their properties, indexed by their ids when
    every feature has one; errors name ``field``."""
    if collection is None:
        return None
    geometries, rows, ids = [], [], []
    for number, feature in enumerate(collection.features):
        if feature.geometry is None:
            raise ValidationError(f"{field}.features.{number}.geometry: required")
        try:
            geometry = shapely.geometry.shape(feature.geometry.model_dump())
        except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError,
                AttributeError, IndexError) as exc:
            raise ValidationError(f"{field}.features.{number}.geometry: not a geometry "
                                  f"({str(exc).splitlines()[0]})") from None
        if geometry.is_empty or not shapely.is_valid(geometry):
            raise ValidationError(f"{field}.features.{number}.geometry: empty or invalid")
        geometries.append(geometry)
        rows.append(feature.properties or {})
        ids.append(feature.id)
    result = gpd.GeoDataFrame(rows, geometry=geometries, crs="EPSG:4326")
    if ids and all(i is not None for i in ids):
        result.index = [str(i) for i in ids]
    return result
