"""The routable road network: an immutable set of numpy arrays (:class:`RoadNetwork`) and the
settings a build depends on (:class:`NetworkSettings`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np

from geo.errors import ValidationError
from geo.network import osm_tags

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class NetworkSettings:
    """What a build depends on besides the source and the mode (part of the cache key)."""

    drive_speeds_kph: Mapping[str, float] = field(
        default_factory=lambda: osm_tags.DEFAULT_DRIVE_SPEEDS_KPH)
    walk_speed_kph: float = osm_tags.DEFAULT_WALK_SPEED_KPH
    use_maxspeed: bool = True

    def __post_init__(self):
        speeds = {**osm_tags.DEFAULT_DRIVE_SPEEDS_KPH, **dict(self.drive_speeds_kph)}
        bad = {k: v for k, v in speeds.items() if not _positive(v)}
        if bad:
            raise ValidationError(f"drive_speeds_kph: speeds must be positive numbers, got {bad}")
        if not _positive(self.walk_speed_kph):
            raise ValidationError(
                f"walk_speed_kph: must be a positive number, got {self.walk_speed_kph!r}")
        object.__setattr__(self, "drive_speeds_kph", MappingProxyType(
            {k: float(v) for k, v in sorted(speeds.items())}))

    def key(self, mode: str) -> dict:
        if mode == "walk":
            return {"walk_speed_kph": float(self.walk_speed_kph)}
        return {"drive_speeds_kph": dict(self.drive_speeds_kph), "use_maxspeed": self.use_maxspeed}


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and np.isfinite(value) and value > 0


ARRAY_FIELDS = (
    "node_osm_id", "node_lonlat", "node_xy",
    "edge_tail", "edge_head", "edge_travel_time_s", "edge_length_m", "edge_geom", "edge_reversed",
    "geom_offsets", "geom_lonlat", "geom_xy", "geom_cum_time_s", "geom_cum_length_m", "geom_edges",
    "fwd_indptr", "fwd_edges", "rev_indptr", "rev_edges", "dropped_xy",
)


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """An immutable routable network; all arrays are read-only.

    Nodes are junctions and dead ends (index ``0..n_nodes-1``). Edge ``e`` runs from
    ``edge_tail[e]`` to ``edge_head[e]`` along geometry ``edge_geom[e]`` (reversed when
    ``edge_reversed[e]``). A two-way road has one geometry and two edges: ``geom_edges[g]`` is
    ``(forward edge, backward edge or -1)``.
    ``geom_cum_time_s`` / ``geom_cum_length_m`` give, at each point of a geometry, the travel time
    and length from its first point (the same both ways: speeds are per way, not per direction),
    so that a point partway along an edge whose stretches differ in speed is costed exactly.
    ``fwd_edges[fwd_indptr[n]:fwd_indptr[n+1]]`` are the edges leaving node ``n``;
    ``rev_*`` likewise for the edges entering it.
    """

    mode: str
    crs: str
    meta: Mapping
    node_osm_id: np.ndarray
    node_lonlat: np.ndarray
    node_xy: np.ndarray
    edge_tail: np.ndarray
    edge_head: np.ndarray
    edge_travel_time_s: np.ndarray
    edge_length_m: np.ndarray
    edge_geom: np.ndarray
    edge_reversed: np.ndarray
    geom_offsets: np.ndarray
    geom_lonlat: np.ndarray
    geom_xy: np.ndarray
    geom_cum_time_s: np.ndarray  # travel time from the geometry's first point, at each point
    geom_cum_length_m: np.ndarray  # likewise, length
    geom_edges: np.ndarray
    fwd_indptr: np.ndarray
    fwd_edges: np.ndarray
    rev_indptr: np.ndarray
    rev_edges: np.ndarray
    dropped_xy: np.ndarray  # (k, 2, 2) segments outside the kept component, for diagnostics

    def __post_init__(self):
        for name in ARRAY_FIELDS:
            getattr(self, name).flags.writeable = False
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_nodes(self) -> int:
        return len(self.node_osm_id)

    @property
    def n_edges(self) -> int:
        return len(self.edge_tail)

    @property
    def n_geometries(self) -> int:
        return len(self.geom_edges)

    @cached_property
    def bounds_lonlat(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the kept roads."""
        lon, lat = self.geom_lonlat[:, 0], self.geom_lonlat[:, 1]
        return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())

    @cached_property
    def geometries(self) -> np.ndarray:
        """Shapely LineStrings (projected x/y) of every geometry ``g``."""
        import shapely

        sizes = np.diff(self.geom_offsets)
        return np.asarray(shapely.linestrings(self.geom_xy,
                                              indices=np.repeat(np.arange(len(sizes)), sizes)))

    @cached_property
    def edge_index(self):
        """Spatial index (shapely STRtree) over the road geometries, for snapping."""
        import shapely

        return shapely.STRtree(self.geometries)

    @cached_property
    def edge_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted ``tail * n_nodes + head`` keys, the edges in that order): finds the edges
        between two nodes with a binary search."""
        keys = self.edge_tail.astype(np.int64) * self.n_nodes + self.edge_head
        order = np.argsort(keys, kind="stable")
        return keys[order], order

    @cached_property
    def dropped_index(self):
        """(STRtree, LineStrings) of the road segments cut off from the network, or None."""
        import shapely

        if len(self.dropped_xy) == 0:
            return None
        lines = shapely.linestrings(np.asarray(self.dropped_xy))
        return shapely.STRtree(lines), lines

    @cached_property
    def to_lonlat(self):
        from pyproj import Transformer

        return Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    @cached_property
    def to_xy(self):
        from pyproj import Transformer

        return Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    def csr_layout(self, *, reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, column of each entry, edge of each entry) of the CSR adjacency, forward or
        reversed; one entry per edge, parallel edges kept."""
        indptr, edges = (self.rev_indptr, self.rev_edges) if reverse else (
            self.fwd_indptr, self.fwd_edges)
        targets = self.edge_tail[edges] if reverse else self.edge_head[edges]
        return indptr, targets, edges

    def summary(self) -> dict:
        return {"mode": self.mode, "nodes": self.n_nodes, "edges": self.n_edges,
                "crs": self.crs, **self.meta}
