"""An rtree index over one layer's features, updated in place (insert / move / delete).

Records have string ids; rtree wants integers, so each id gets a slot number for the life of the
index. The index remembers each slot's bounds, which rtree needs to delete an entry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from rtree import index as rtree_index

Bounds = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


class SpatialIndex:
    def __init__(self, items: Iterable[tuple[str, Bounds]] = (), *, revision: int = 0):
        self.revision = revision
        self._slots: dict[str, int] = {}
        self._entries: dict[int, tuple[str, Bounds]] = {}
        self._next = 0
        items = list(items)
        if items:
            stream = ((self._claim(key, bounds), bounds, None) for key, bounds in items)
            self._tree = rtree_index.Index(stream)
        else:
            self._tree = rtree_index.Index()

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: str) -> bool:
        return key in self._slots

    def _claim(self, key: str, bounds: Bounds) -> int:
        slot = self._next
        self._next += 1
        self._slots[key] = slot
        self._entries[slot] = (key, bounds)
        return slot

    def insert(self, key: str, bounds: Bounds) -> None:
        if key in self._slots:
            self.delete(key)
        self._tree.insert(self._claim(key, bounds), bounds)

    def delete(self, key: str) -> None:
        slot = self._slots.pop(key, None)
        if slot is not None:
            _, bounds = self._entries.pop(slot)
            self._tree.delete(slot, bounds)

    def move(self, key: str, bounds: Bounds) -> None:
        self.insert(key, bounds)

    def intersecting(self, bounds: Bounds) -> list[str]:
        return [self._entries[slot][0] for slot in self._tree.intersection(bounds)]

    def nearest(self, lon: float, lat: float, k: int) -> list[str]:
        """The ``k`` ids whose boxes are nearest in degrees (a candidate filter, not a distance)."""
        if not self._slots:
            return []
        return [self._entries[slot][0]
                for slot in self._tree.nearest((lon, lat, lon, lat), min(k, len(self._slots)))]


def degree_box(lon: float, lat: float, radius_m: float) -> Bounds:
    """A lon/lat box sure to contain every point within ``radius_m`` of (lon, lat)."""
    dlat = radius_m / 110_574.0 * 1.01
    dlon = radius_m / (111_320.0 * max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6))
    return lon - dlon * 1.01, lat - dlat, lon + dlon * 1.01, lat + dlat
