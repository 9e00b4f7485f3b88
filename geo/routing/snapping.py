"""Snap points to the nearest road *edge* of a network (not merely the nearest node).

A snapped point knows the road geometry it lies on, its offset along it, and how far it was moved.
Points too far from any kept road, or whose nearest road is one that was cut off from the network,
are reported as such with their distances: they are never silently routed from a far road.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, fields

import numpy as np
import shapely

from geo.errors import PointError
from geo.network.model import RoadNetwork

DEFAULT_MAX_SNAP_M = 500.0
# A point nearer to a road cut off from the network than to any kept road is on an "island" only
# when the kept road is farther than this: a few metres of slack keep points beside short
# dropped stubs (a one-way driveway, say) usable.
ISLAND_TOLERANCE_M = 50.0

ENDPOINT_TOLERANCE_M = 0.01

OK, FAR, ISLAND = "ok", "far", "island"


@dataclass(frozen=True, eq=False)  # compared by identity: arrays have no single truth value
class Snapped:
    """Points snapped to a network. Arrays have one entry per input point.

    ``geom[i]`` is the road geometry point ``i`` snapped to (-1 when not on the network),
    ``fraction[i]`` its position along that geometry (0 at the start, 1 at the end),
    ``snap_m[i]`` the distance to the nearest kept road, and ``status[i]`` one of ``"ok"``,
    ``"far"`` (beyond ``max_snap_m``) or ``"island"`` (its nearest road is cut off from the
    network; ``island_m[i]`` is the distance to that road).
    """

    lon: np.ndarray
    lat: np.ndarray
    xy: np.ndarray
    geom: np.ndarray
    offset_m: np.ndarray
    fraction: np.ndarray
    snap_m: np.ndarray
    snapped_xy: np.ndarray
    status: np.ndarray
    island_m: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        return self.status == OK

    def __len__(self) -> int:
        return len(self.geom)

    def take(self, index) -> Snapped:
        """The results of the points at ``index`` (integer positions or a boolean mask) only."""
        return Snapped(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


_CACHE_SIZE = 32
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def snap_points(net: RoadNetwork, lon, lat, *, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                route_islands: bool = False) -> Snapped:
    """Snap many lon/lat points at once through the network's spatial index.

    ``route_islands=True`` snaps a point whose nearest road is cut off from the network to the
    nearest connected road within ``max_snap_m`` (status ``"ok"``; :func:`past_island` tells
    which), as a dispatcher needs an answer whenever one exists; only points with no connected
    road within the limit are then ``"island"``. The kept network is one strongly connected
    component (see :mod:`geo.network.build`), so every road it snaps to is a connected one.

    The last few results per network are kept: a dispatcher's queries snap the same team
    positions again and again, and on a large network that is most of a query's time.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    key = (float(max_snap_m), bool(route_islands),
           hashlib.blake2b(lon.tobytes() + lat.tobytes()).digest())
    with _cache_lock:
        recent = _cache.setdefault(net, OrderedDict())
        if key in recent:
            recent.move_to_end(key)
            return recent[key]
    snapped = _snap(net, lon, lat, max_snap_m, route_islands)
    with _cache_lock:
        recent[key] = snapped
        if len(recent) > _CACHE_SIZE:
            recent.popitem(last=False)
    return snapped


def _snap(net: RoadNetwork, lon, lat, max_snap_m, route_islands) -> Snapped:
    x, y = net.to_xy.transform(lon, lat)
    xy = np.column_stack([x, y])
    points = shapely.points(xy)
    _, geom = net.edge_index.query_nearest(points, all_matches=False)
    lines = net.geometries[geom]
    snap_m = shapely.distance(points, lines)
    offset = shapely.line_locate_point(lines, points)
    length = shapely.length(lines)
    # A point within a centimetre of a road's end is at that junction: exact 0 or 1 lets it
    # leave along every road there (rounding in reprojection would otherwise leave 1e-13).
    offset = np.where(offset < ENDPOINT_TOLERANCE_M, 0.0,
                      np.where(length - offset < ENDPOINT_TOLERANCE_M, length, offset))
    fraction = np.divide(offset, length, out=np.zeros_like(offset), where=length > 0)
    snapped = shapely.get_coordinates(shapely.line_interpolate_point(lines, offset))
    island_m = _distance_to_dropped_roads(net, points)
    status = np.where(snap_m > max_snap_m, FAR, OK).astype(object)
    island = (island_m < snap_m) & (snap_m > ISLAND_TOLERANCE_M)
    if route_islands:
        island &= snap_m > max_snap_m
    status[island] = ISLAND
    geom = np.where(status == OK, geom, -1)
    result = Snapped(lon.copy(), lat.copy(), xy, geom, offset, fraction, snap_m, snapped,
                     status.astype(str), island_m)
    for array in vars(result).values():
        array.flags.writeable = False  # shared through the cache
    return result


def past_island(snapped: Snapped) -> np.ndarray:
    """Per point: routed from a connected road although a road cut off from the network is
    nearer (and the connected one more than ``ISLAND_TOLERANCE_M`` away): worth telling the user,
    with ``snap_m``."""
    return (snapped.on_network & (snapped.island_m < snapped.snap_m)
            & (snapped.snap_m > ISLAND_TOLERANCE_M))


def _distance_to_dropped_roads(net: RoadNetwork, points) -> np.ndarray:
    if net.dropped_index is None:
        return np.full(len(points), np.inf)
    tree, dropped = net.dropped_index
    _, nearest = tree.query_nearest(points, all_matches=False)
    return shapely.distance(points, dropped[nearest])


def check_lonlat(net: RoadNetwork, lon, lat, *, field: str,
                 margin_m: float = DEFAULT_MAX_SNAP_M) -> None:
    """Raise :class:`PointError` naming ``field`` unless the points are usable coordinates
    inside the network's extent (plus ``margin_m``)."""
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise PointError(f"{field}: coordinates must be finite numbers")
    bad_range = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if bad_range.any():
        i = int(np.argmax(bad_range))
        raise PointError(f"{field}: {lat[i]:g},{lon[i]:g} is out of range "
                         "(latitude -90..90, longitude -180..180)")
    inside = _inside_extent(net, lon, lat, margin_m)
    if not inside.all():
        i = int(np.argmin(inside))
        west, south, east, north = net.bounds_lonlat
        hint = ""
        if _inside_extent(net, lat[i:i + 1], lon[i:i + 1], margin_m)[0]:
            hint = "; latitude and longitude look swapped"
        raise PointError(
            f"{field}: {lat[i]:.6f},{lon[i]:.6f} is outside the network's extent "
            f"(latitude {south:.4f}..{north:.4f}, longitude {west:.4f}..{east:.4f}){hint}")


def _inside_extent(net: RoadNetwork, lon, lat, margin_m) -> np.ndarray:
    west, south, east, north = net.bounds_lonlat
    margin_lat = margin_m / 111_320.0
    margin_lon = margin_lat / max(np.cos(np.radians((south + north) / 2)), 0.01)
    return ((lon >= west - margin_lon) & (lon <= east + margin_lon)
            & (lat >= south - margin_lat) & (lat <= north + margin_lat))


def require_on_network(snapped: Snapped, *, field: str, max_snap_m: float) -> None:
    """Raise :class:`PointError` for the first point of ``snapped`` that is not on the network."""
    bad = np.flatnonzero(~snapped.on_network)
    if not len(bad):
        return
    i = int(bad[0])
    where = f"{snapped.lat[i]:.6f},{snapped.lon[i]:.6f}"
    if snapped.status[i] == ISLAND:
        raise PointError(
            f"{field}: {where} lies on a road not connected to the routable network "
            f"({snapped.island_m[i]:.0f} m away); the nearest connected road is "
            f"{snapped.snap_m[i]:.0f} m away")
    raise PointError(f"{field}: {where} is {snapped.snap_m[i]:.0f} m from the nearest routable "
                     f"road (more than the {max_snap_m:g} m allowed)")


def snap_point(net: RoadNetwork, lonlat: tuple[float, float], *, field: str,
               max_snap_m: float = DEFAULT_MAX_SNAP_M, route_islands: bool = False) -> Snapped:
    """One (lon, lat) point snapped, after checking it lies in the network's extent (a
    :class:`PointError` naming ``field`` otherwise)."""
    lon, lat = lonlat
    check_lonlat(net, lon, lat, field=field, margin_m=max_snap_m)
    return snap_points(net, lon, lat, max_snap_m=max_snap_m, route_islands=route_islands)
