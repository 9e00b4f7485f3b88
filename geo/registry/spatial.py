"""Spatial queries ("what is near here"); distances in metres.

On PostgreSQL the candidates come from PostGIS's GiST index on each feature table
(:mod:`geo.registry.postgis`). On SQLite they come from an rtree index per layer
(:mod:`geo.registry.spatial_index`), built on first use and kept in step with this registry's
writes. Either way the candidates are then measured in metres here, so that both databases
give the same answers.

An index remembers the layer's revision it reflects. A write through this registry moves it one
revision on; if the revision jumped (another process wrote meanwhile) the index is dropped and
rebuilt from the database on next use.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from sqlalchemy import Table, select

from geo.errors import ValidationError
from geo.registry import postgis
from geo.registry.spatial_index import Bounds, SpatialIndex, degree_box
from geo.registry.store import CHUNK, TABLES, WGS84, Store

log = logging.getLogger(__name__)


class SpatialMixin(Store):
    def nearby(self, layer: str, lon: float, lat: float, *, radius_m: float) -> pd.Series:
        """Ids of the layer's features within ``radius_m`` of (lon, lat), with their distance in
        metres (to the nearest point of the feature), nearest first."""
        if not (np.isfinite(radius_m) and radius_m >= 0):
            raise ValidationError(f"radius_m: expected a non-negative number, got {radius_m!r}")
        candidates = self._intersecting(layer, degree_box(lon, lat, radius_m))
        distances = self._distances_m(layer, candidates, lon, lat)
        return distances[distances <= radius_m]

    def nearest(self, layer: str, lon: float, lat: float, *, k: int = 1) -> pd.Series:
        """The ``k`` features nearest to (lon, lat) with their distance in metres."""
        if int(k) < 1:
            raise ValidationError(f"k: expected a positive whole number, got {k!r}")
        k = int(k)
        # Degrees distort distance, so the k nearest boxes only bound the answer: every feature
        # nearer than the k-th of them in metres lies within that radius; rank those.
        first = self._distances_m(layer, self._nearest_boxes(layer, lon, lat, k), lon, lat)
        if len(first) < k:
            return first
        return self.nearby(layer, lon, lat, radius_m=float(first.iloc[k - 1]) + 1e-6).iloc[:k]

    def _intersecting(self, layer: str, box: Bounds) -> list[str]:
        if self.postgis:
            with self._read() as conn:
                return postgis.intersecting(conn, self._table(layer).name, box)
        return self._index(layer).intersecting(box)

    def _nearest_boxes(self, layer: str, lon: float, lat: float, k: int) -> list[str]:
        if self.postgis:
            with self._read() as conn:
                return postgis.nearest(conn, self._table(layer).name, lon, lat, k)
        return self._index(layer).nearest(lon, lat, k)

    def _distances_m(self, layer: str, ids: list[str], lon: float, lat: float) -> pd.Series:
        if not ids:
            return pd.Series([], dtype=float, name="distance_m")
        table = TABLES[layer]
        rows = []
        with self._read() as conn:
            for start in range(0, len(ids), CHUNK):
                rows += conn.execute(select(table.c.id, table.c.geometry_wkb)
                                     .where(table.c.id.in_(ids[start:start + CHUNK]))).all()
        local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
        to_local = Transformer.from_crs(WGS84, local, always_xy=True)
        geometries = shapely.transform(shapely.from_wkb([r[1] for r in rows]),
                                       lambda xy: np.column_stack(to_local.transform(*xy.T)))
        distance = shapely.distance(geometries, shapely.Point(0, 0))
        return pd.Series(distance, index=pd.Index([r[0] for r in rows], name="id"),
                         name="distance_m").sort_values(kind="stable")

    @staticmethod
    def _table(layer: str) -> Table:
        if layer not in TABLES:
            raise ValidationError(f"layer: {layer!r} has no spatial index; one of "
                                  f"{', '.join(TABLES)}")
        return TABLES[layer]

    def _index(self, layer: str) -> SpatialIndex:
        self._table(layer)
        revision = self._revisions((layer,))[layer]
        with self._index_lock:
            index = self._indexes.get(layer)
            if index is not None and index.revision == revision:
                return index
            table = TABLES[layer]
            with self._read() as conn:
                rows = conn.execute(select(table.c.id, table.c.min_lon, table.c.min_lat,
                                           table.c.max_lon, table.c.max_lat)).all()
            index = SpatialIndex(((r[0], tuple(r[1:])) for r in rows), revision=revision)
            self._indexes[layer] = index
            log.debug("built the %s index (%d features, revision %d)", layer, len(index), revision)
            return index

    def _after_write(self, layer: str, revision: int, *,
                     inserted: Sequence[tuple[str, Bounds]] = (),
                     deleted: Sequence[str] = ()) -> None:
        """Keep a built index in step with this write; if another writer got in between (the
        revision jumped), drop it so the next query rebuilds it from the database."""
        if self._in_transaction():
            return  # indexes are dropped when the transaction ends
        with self._index_lock:
            index = self._indexes.get(layer)
            if index is None:
                return
            if index.revision != revision - 1:
                del self._indexes[layer]
                return
            for key in deleted:
                index.delete(key)
            for key, bounds in inserted:
                index.insert(key, bounds)
            index.revision = revision

    def _forget_index(self, layer: str) -> None:
        with self._index_lock:
            self._indexes.pop(layer, None)
