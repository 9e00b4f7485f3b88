"""The one GeoJSON writer: a FeatureCollection in WGS84 lon/lat (RFC 7946), written whole or not
at all.

The attribution rule: anything derived from the OSM road network or from OSM features carries
the credit :data:`geo.OSM_ATTRIBUTION`, as the foreign member ``"attribution"`` of the
collection (the ODbL asks for it wherever the data is shown). Callers apply the rule through the
``attribution`` flag: analysis results always pass True (they are computed on OSM roads); a
registry layer export passes True when any record's ``source`` is OSM
(:func:`geo.io.layer_files.has_osm_source`).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import OSM_ATTRIBUTION
from geo.core.files import write_text_atomically
from geo.core.jsonable import jsonable
from geo.errors import ValidationError
from geo.io.crs import WGS84, is_wgs84


def geojson_collection(frame: gpd.GeoDataFrame, *, attribution: bool) -> dict:
    """``frame`` as a GeoJSON FeatureCollection of plain JSON values: lon/lat, the index as
    feature ids, NaN and missing values as null, and the OSM credit when ``attribution``."""
    if frame.crs is None:
        raise ValidationError("frame: no CRS, so it cannot be written as lon/lat GeoJSON")
    if not is_wgs84(frame.crs):
        frame = frame.to_crs(WGS84)
    properties = pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")
    features = [{"type": "Feature", "id": jsonable(index), "properties": jsonable(values),
                 "geometry": jsonable(geometry)}
                for index, values, geometry in zip(frame.index, properties,
                                                   frame.geometry.to_numpy())]
    collection = {"type": "FeatureCollection", "features": features}
    if attribution:
        collection["attribution"] = OSM_ATTRIBUTION
    return collection


def geojson_text(frame: gpd.GeoDataFrame, *, attribution: bool) -> str:
    """:func:`geojson_collection` as JSON text."""
    return json.dumps(geojson_collection(frame, attribution=attribution), ensure_ascii=False,
                      allow_nan=False)


def write_geojson(frame: gpd.GeoDataFrame, path: str | Path, *, attribution: bool,
                  field: str = "out") -> Path:
    """Write :func:`geojson_collection` as UTF-8 to ``path``, whole or not at all
    (:func:`geo.core.files.write_atomically`); errors name ``field``."""
    return write_text_atomically(path, geojson_text(frame, attribution=attribution),
                                 field=field)
