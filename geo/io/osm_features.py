"""Non-road OSM features (buildings, amenities, land use, rivers) as a GeoDataFrame, read with
pyosmium/libosmium: nodes as points, closed ways and multipolygon relations as (multi)polygons
through libosmium's area assembly, open ways as lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import shapely

from geo.errors import SourceError

log = logging.getLogger(__name__)

FEATURE_KEYS = ("amenity", "leisure", "building", "landuse", "waterway", "healthcare",
                "emergency", "shop", "office", "craft", "tourism", "industrial")


def read_features(path: str | Path, *, keys: Sequence[str] = FEATURE_KEYS) -> gpd.GeoDataFrame:
    """Every node, area and open way carrying one of ``keys``, in EPSG:4326.

    Columns: ``osm_id`` ("node/1", "way/2", "relation/3": the object the feature was built
    from), ``kind`` (point / area / line), ``tags`` (a dict) and ``geometry``."""
    import osmium

    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    factory = osmium.geom.WKBFactory()
    rows, geometries = [], []
    try:
        processor = (osmium.FileProcessor(str(path)).with_locations().with_areas()
                     .with_filter(osmium.filter.KeyFilter(*keys)))
        for obj in processor:
            made = _feature(obj, factory)
            if made is not None:
                rows.append(made[0])
                geometries.append(made[1])
    except RuntimeError as exc:
        raise SourceError(f"{path}: cannot read OSM data ({exc})") from exc
    frame = gpd.GeoDataFrame(rows, columns=["osm_id", "kind", "tags"],
                             geometry=shapely.from_wkb(geometries) if geometries else [],
                             crs="EPSG:4326")
    log.info("read %d OSM features from %s", len(frame), path)
    return frame


def _feature(obj, factory) -> tuple[list, bytes] | None:
    import osmium

    try:
        if isinstance(obj, osmium.osm.Node):
            return [f"node/{obj.id}", "point", dict(obj.tags)], factory.create_point(obj)
        if isinstance(obj, osmium.osm.Area):
            origin = "way" if obj.from_way() else "relation"
            return ([f"{origin}/{obj.orig_id()}", "area", dict(obj.tags)],
                    factory.create_multipolygon(obj))
        if isinstance(obj, osmium.osm.Way) and not obj.is_closed() and len(obj.nodes) > 1:
            return [f"way/{obj.id}", "line", dict(obj.tags)], factory.create_linestring(obj)
    except (RuntimeError, osmium.InvalidLocationError):  # broken geometry in the extract
        return None
    return None


def tag(frame: gpd.GeoDataFrame, key: str) -> gpd.pd.Series:
    """One tag as a column (None where absent)."""
    return frame["tags"].map(lambda tags: tags.get(key))
