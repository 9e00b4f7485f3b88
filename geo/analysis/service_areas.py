"""Service areas: the part of the road network reached within each break, as polygons.

The one place that turns reached edges into polygons. For a break B, every edge at a node reached
within B contributes the stretch of its road reached within B (edges at the cutoff are cut where
the budget runs out, by the exact cost along the road; a blocked stretch stops it), the
facility's own road contributes the stretch around it, and the polygon is the land within
``buffer_m`` of those stretches (the *band*), drawn for all breaks in one pass on a grid
(:mod:`geo.analysis.area_grid`). Areas that cannot be reached in time are therefore not shown as
covered, holes between roads stay holes, and a larger break's polygon contains a smaller one's
because its stretches contain theirs. The *filled* form also counts the land between reached
roads within ``fill_m`` of them, as isochrone services draw it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.area_grid import TimedPieces, band_polygons
from geo.analysis.ranking import unreachable_reasons
from geo.core.jsonable import jsonable
from geo.core.validate import check_breaks, check_choice, lonlat_points, per_point_costs
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.search import Search, cost_to_points, edge_costs, search_from_points
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, Snapped, snap_points

SHAPES = ("disks", "rings")
FORMS = ("band", "filled")
OVERLAPS = ("overlap", "split", "dissolve")
DIRECTIONS = ("from", "to")
# Half-width of the band around reached roads; a planner reads it as "along this road".
DEFAULT_BUFFER_M = {"walk": 40.0, "drive": 60.0}
# The filled form closes gaps between reached roads up to twice this wide (a city block, a
# square), but not open land beyond the outermost reached roads.
DEFAULT_FILL_M = 200.0


@dataclass(frozen=True)
class Stretches:
    """Reached parts of road geometries: ``geom[i]`` from fraction ``start[i]`` to ``end[i]``,
    reached from facility ``facility[i]``."""

    geom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    facility: np.ndarray


@dataclass(frozen=True)
class TimedStretches:
    """Stretches reached within a budget, each as entered: along road ``geom`` from fraction
    ``origin`` (reached at ``origin_cost``) to fraction ``far``, on ``edge`` (whose whole-edge
    cost factor applies along it), from facility ``facility``."""

    geom: np.ndarray
    origin: np.ndarray
    far: np.ndarray
    origin_cost: np.ndarray
    edge: np.ndarray
    facility: np.ndarray


def timed_stretches(net: RoadNetwork, search: Search, budget: float) -> TimedStretches:
    """The stretches of road reached within ``budget`` in ``search``: along each edge from the
    node it leaves (towards the node it enters, in a reverse search) as far as the budget left
    there goes, stopping at a blocked stretch; and each facility's own road around it.

    Only the edges at nodes reached within the budget are looked at, in one compiled loop
    (:func:`geo.analysis.stretch_kernel.reached_stretches`)."""
    from geo.analysis.stretch_kernel import reached_stretches as compiled

    nodes, nodes_cost, nodes_source = _nodes_within(net, search, budget)
    indptr, edge_list = ((net.rev_indptr, net.rev_edges) if search.reverse
                         else (net.fwd_indptr, net.fwd_edges))
    points = search.sources
    return TimedStretches(*compiled(
        search.costs.kernel_arrays, nodes, nodes_cost, nodes_source, float(budget),
        np.asarray(indptr), np.asarray(edge_list), np.asarray(net.edge_reversed),
        search.reverse, np.asarray(points.geom, dtype=np.int64),
        np.asarray(points.fraction, dtype=float), np.asarray(search.start_cost, dtype=float),
        np.asarray(net.geom_edges)))


def _nodes_within(net: RoadNetwork, search: Search,
                  budget: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node, cost, source) of the nodes reached within ``budget``, by node: from the first of
    the nodes the search kept when it kept only those it reached (a large network's nodes are
    not scanned), else from a scan of every node."""
    if search.reached is None:
        nodes = np.flatnonzero(search.cost[:net.n_nodes] <= budget)
        return nodes, search.cost[nodes], search.source[nodes]
    reached = search.reached
    count = reached.count_within(budget)
    by_node = np.argsort(reached.node[:count])
    return reached.node[by_node], reached.cost[by_node], reached.source[by_node]


def reached_stretches(net: RoadNetwork, search: Search, budget: float) -> Stretches:
    """The stretches of road reached within ``budget`` (see :func:`timed_stretches`), those of
    one road and facility that overlap merged."""
    timed = timed_stretches(net, search, budget)
    return _merged(Stretches(timed.geom, np.minimum(timed.origin, timed.far),
                             np.maximum(timed.origin, timed.far), timed.facility))


def _merged(stretches: Stretches) -> Stretches:
    """Overlapping stretches of one road and facility as one (a two-way road is reached along
    both of its edges; buffering it twice doubled the polygon work)."""
    order = np.lexsort((stretches.start, stretches.geom, stretches.facility))
    geom, start, end = stretches.geom[order], stretches.start[order], stretches.end[order]
    facility = stretches.facility[order]
    same_road = np.r_[False, (geom[1:] == geom[:-1]) & (facility[1:] == facility[:-1])]
    # Running maximum of the ends within each road: offsetting each road's ends by its rank
    # keeps one cumulative maximum from leaking across roads.
    road_rank = np.cumsum(~same_road)
    reach = np.maximum.accumulate(end + 2.0 * road_rank) - 2.0 * road_rank
    new = ~same_road | (start > np.r_[-1.0, reach[:-1]])
    first = np.flatnonzero(new)
    return Stretches(geom[first], start[first], np.maximum.reduceat(end, first),
                     facility[first])


def stretch_lines(net: RoadNetwork, stretches: Stretches) -> np.ndarray:
    """LineStrings of the stretches; whole roads reuse the network's geometries."""
    whole = (stretches.start <= 0) & (stretches.end >= 1)
    lines = np.empty(len(stretches.geom), dtype=object)
    lines[whole] = net.geometries[stretches.geom[whole]]
    for i in np.flatnonzero(~whole):
        line = net.geometries[stretches.geom[i]]
        lines[i] = shapely.ops.substring(line, stretches.start[i], stretches.end[i],
                                         normalized=True)
    return lines


@dataclass(frozen=True)
class ServiceAreaResult:
    """One row per facility (None when dissolved) and break: ``facility``, ``from_break``,
    ``to_break`` (seconds or metres, as ``unit``), ``area_m2``, ``population`` (the demand
    reached by network cost within the break: the same people coverage counts) and ``polygons``
    (shapely, EPSG:4326); :attr:`areas` has them as a GeoDataFrame. ``unreachable``: the
    facilities off the network, with the reason and snap distance; they have no area."""

    rows: dict  # column name -> one value per row (see above), polygons under "geometry"
    off_network: dict  # "facility", "reason", "snap_m" -> one value per unreachable facility
    breaks: np.ndarray
    unit: str
    notes: tuple[str, ...] = ()

    @property
    def polygons(self) -> np.ndarray:
        return self.rows["geometry"]

    @cached_property
    def areas(self) -> gpd.GeoDataFrame:
        """The rows as a GeoDataFrame (built on first use: a frame costs more than the areas)."""
        columns = {name: values for name, values in self.rows.items() if name != "geometry"}
        columns["facility"] = pd.Series(columns["facility"], dtype=object)
        return gpd.GeoDataFrame(columns, geometry=self.polygons, crs=_wgs84())

    @cached_property
    def unreachable(self) -> pd.DataFrame:
        return pd.DataFrame(self.off_network, columns=["facility", "reason", "snap_m"])

    def to_dict(self) -> dict:
        names = [name for name in self.rows if name != "geometry"]
        areas = [dict(zip(names, values)) for values in zip(*(self.rows[n] for n in names))]
        off = [dict(zip(self.off_network, values)) for values in zip(*self.off_network.values())]
        return {"unit": self.unit, "breaks": jsonable(self.breaks), "areas": jsonable(areas),
                "unreachable_facilities": jsonable(off), "notes": list(self.notes)}

    def features(self) -> gpd.GeoDataFrame:
        return self.areas


def service_areas(net: RoadNetwork, facilities, *, breaks, weight: str = "travel_time_s",
                  direction: str = "to", extra_cost=None, blocked=None, cost_scale=None,
                  effects=None, shape: str = "disks", overlap: str = "dissolve",
                  form: str = "band", buffer_m: float | None = None,
                  fill_m: float | None = None,
                  population: gpd.GeoDataFrame | None = None,
                  population_column: str = "population",
                  max_snap_m: float = DEFAULT_MAX_SNAP_M) -> ServiceAreaResult:
    """Service-area polygons of facilities (a GeoDataFrame or (lon, lat) arrays).

    ``breaks`` are in seconds (``weight="travel_time_s"``) or metres (``"length_m"``);
    ``direction`` "from" (teams going out) or "to" (people coming in); ``extra_cost`` one value
    per facility in the unit of the weight (turnout time, say). ``shape`` "disks" (0–break) or
    "rings" (between breaks); ``overlap`` "dissolve" (one polygon per break, from one search for
    all facilities), "split" (that area divided between the nearest facilities) or "overlap"
    (one polygon per facility and break, one search each). ``form`` "band" (the land within
    ``buffer_m`` of the reached roads) or "filled" (also the land between reached roads within
    ``fill_m`` of them).
    """
    breaks = check_breaks(breaks)
    check_choice("direction", direction, DIRECTIONS)
    check_choice("shape", shape, SHAPES)
    check_choice("overlap", overlap, OVERLAPS)
    check_choice("form", form, FORMS)
    outline = _Outline(
        _positive("buffer_m", DEFAULT_BUFFER_M.get(net.mode, 50.0) if buffer_m is None
                  else buffer_m),
        _positive("fill_m", DEFAULT_FILL_M if fill_m is None else fill_m) if form == "filled"
        else None)
    ids, lon, lat = lonlat_points(facilities)
    snapped = snap_points(net, lon, lat, max_snap_m=max_snap_m)
    extra = per_point_costs("extra_cost", extra_cost, len(ids))
    costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale,
                       effects=effects)
    demand = _Demand.of(net, population, population_column, max_snap_m)
    search_kw = {"costs": costs, "reverse": direction == "to", "cutoff": breaks[-1],
                 "compiled": True}
    reach: dict[int | None, tuple[np.ndarray, np.ndarray]] = {}
    rows: list[tuple[int | None, float, object]]
    if overlap == "overlap" or not snapped.on_network.any():  # no facility: no area at all
        rows = []
        for i in np.flatnonzero(snapped.on_network):
            one = snapped.take([i])
            search = search_from_points(net, one, start_cost=None if extra is None else extra[[i]],
                                        **search_kw)
            reach[int(i)] = demand.reached(net, search)
            rows += [(int(i), b, poly) for b, poly in _disks(net, search, breaks, outline)]
    else:
        search = search_from_points(net, snapped, start_cost=extra, **search_kw)
        reach[None] = demand.reached(net, search)
        if overlap == "dissolve":
            rows = [(None, b, poly) for b, poly in _disks(net, search, breaks, outline)]
        else:
            rows = _split_disks(net, search, breaks, outline)
    unit = "s" if weight == "travel_time_s" else "m"
    return ServiceAreaResult(_as_columns(net, rows, breaks, shape, ids, demand, reach,
                                         split=overlap == "split"),
                             _unreachable(snapped, ids), breaks, unit)


@dataclass(frozen=True)
class _Outline:
    """How reached roads become an area: the band's half-width, and the filled form's reach
    over gaps between roads (None for the band alone)."""

    buffer_m: float
    fill_m: float | None


def _positive(field: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number > 0 or not np.isfinite(number):
        raise ValidationError(f"{field}: must be a positive number of metres, got {value!r}")
    return number


def _unreachable(snapped, ids) -> dict:
    reasons = unreachable_reasons(snapped, np.zeros(len(snapped), dtype=bool))
    off = np.flatnonzero(reasons != "")
    return {"facility": [ids[i] for i in off], "reason": reasons[off].tolist(),
            "snap_m": snapped.snap_m[off]}


@dataclass(frozen=True)
class _Demand:
    """Weighted demand points snapped once, to count the people each area reaches by network
    cost (as coverage does), not by lying inside a polygon drawn around the roads."""

    targets: Snapped | None
    weights: np.ndarray

    @classmethod
    def of(cls, net, population, column, max_snap_m) -> _Demand:
        if population is None or len(population) == 0:
            return cls(None, np.zeros(0))
        if column not in population:
            raise ValidationError(f"population: missing column {column!r}")
        weights = population[column].to_numpy(dtype=float)
        _, lon, lat = lonlat_points(population)
        return cls(snap_points(net, lon, lat, max_snap_m=max_snap_m), weights)

    def reached(self, net, search) -> tuple[np.ndarray, np.ndarray]:
        """(cost, facility) of each demand point in ``search`` (inf, -1 when not reached)."""
        if self.targets is None:
            return np.zeros(0), np.zeros(0, dtype=int)
        return cost_to_points(net, search, self.targets)

    def population(self, facility, low, high, reach, *, split: bool) -> np.ndarray:
        """The demand each row (facility index or None, from ``low`` to ``high``) reaches."""
        people = np.zeros(len(facility))
        if self.targets is None:
            return people
        for row, (f, lo, hi) in enumerate(zip(facility, low, high)):
            cost, label = reach[None if split or f is None else f]
            within = (cost <= hi) & ((cost > lo) if lo > 0 else True)
            if split:
                within &= label == f
            people[row] = self.weights[within].sum()
        return people


def to_lonlat(net: RoadNetwork, polygons: np.ndarray) -> np.ndarray:
    """Polygons in the network's CRS as EPSG:4326, all vertices at once (a fitted polynomial
    checked against the exact transform: :mod:`geo.analysis.lonlat_fit`). Contoured outlines
    are valid polygons, and stay so at these scales: tested, not checked on every call, which
    cost more than drawing."""
    from geo.analysis.lonlat_fit import lonlat

    transform = net.to_lonlat.transform
    return shapely.transform(polygons, lambda xy: lonlat(transform, xy, crs=net.crs))


def _disks(net: RoadNetwork, search, breaks, outline: _Outline):
    """Each break's polygon, all drawn from one grid (nested: see :mod:`area_grid`)."""
    pieces = _timed_pieces(search, timed_stretches(net, search, breaks[-1]))
    polygons = band_polygons(pieces, breaks, buffer_m=outline.buffer_m, fill_m=outline.fill_m)
    return list(zip(breaks, polygons))


def _timed_pieces(search, stretches: TimedStretches) -> TimedPieces:
    """The straight pieces of the stretches, with the cost of reaching each end: the stretch's
    origin cost plus the cost along the road from its origin (cut at the effects' boundaries
    too, so that cost is linear along every piece). A road reached from both of its ends keeps
    the earlier of its two times at every point (see
    :func:`geo.analysis.stretch_kernel.earliest_way`)."""
    from geo.analysis.stretch_kernel import earliest_way, stretch_pieces

    costs = search.costs.kernel_arrays
    x, y = search.costs.keys_xy
    far = earliest_way(costs, stretches.geom, stretches.origin, stretches.far,
                       stretches.origin_cost, stretches.edge)
    return TimedPieces(*stretch_pieces(costs, x, y, stretches.geom, stretches.origin, far,
                                       stretches.origin_cost, stretches.edge))


def _split_disks(net: RoadNetwork, search, breaks, outline: _Outline):
    """Per break, the dissolved area divided between facilities: each piece of it goes to the
    facility whose reached roads are nearest (Voronoi cells of points along those roads)."""
    rows = []
    for b, whole in _disks(net, search, breaks, outline):
        stretches = reached_stretches(net, search, b)
        lines = stretch_lines(net, stretches)
        cells = _nearest_road_cells(lines, stretches.facility, outline.buffer_m, whole)
        for facility, cell in cells.items():
            piece = shapely.intersection(whole, cell)
            if not piece.is_empty:
                rows.append((facility, b, piece))
    return rows


def _nearest_road_cells(lines, facility, spacing, extent) -> dict:
    if len(lines) == 0:
        return {}
    # Points along the stretches every half spacing; a stretch of no length (a facility whose
    # start cost uses up the break reaches only its own point) is its point (GEOS refuses to
    # segmentize it).
    dense = lines.copy()
    long = shapely.length(lines) > 0
    dense[long] = shapely.segmentize(lines[long], spacing / 2)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    labels = facility[owner]
    if len(np.unique(labels)) == 1:
        return {int(labels[0]): extent}
    coords, first = np.unique(np.round(coords, 3), axis=0, return_index=True)
    labels = labels[first]
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(coords), extend_to=shapely.buffer(extent, spacing)))
    tree = shapely.STRtree(cast(np.ndarray, shapely.points(coords)))
    cell_index, point_index = tree.query(cells, predicate="contains")
    cell_label = np.full(len(cells), -1)
    cell_label[cell_index] = labels[point_index]
    return {int(f): shapely.union_all(cells[cell_label == f]) for f in np.unique(labels)}


def _as_columns(net, rows, breaks, shape, ids, demand: _Demand, reach, *, split: bool) -> dict:
    """The rows (facility index or None, break, projected polygon) as the result's columns."""
    facility = [f for f, _, _ in rows]
    high = np.array([b for _, b, _ in rows], dtype=float)
    polygons = np.array([poly for _, _, poly in rows], dtype=object)
    low = np.zeros(len(rows))
    if shape == "rings" and len(rows):
        low, polygons = _rings(facility, high, polygons, breaks)
    return {"facility": [None if f is None else ids[f] for f in facility], "from_break": low,
            "to_break": high, "area_m2": shapely.area(polygons),
            "population": demand.population(facility, low, high, reach, split=split),
            "geometry": to_lonlat(net, polygons)}


@functools.cache
def _wgs84():
    import pyproj

    return pyproj.CRS.from_epsg(4326)


def _rings(facility, high, polygons, breaks) -> tuple[np.ndarray, np.ndarray]:
    """Each disk less the next smaller one of the same facility: (lower break, ring)."""
    previous_break = dict(zip(breaks[1:], breaks[:-1]))
    # On a 1 cm precision grid, disks and rings alike: nested outlines share stretches, and a
    # floating-point overlay of shared edges can leave self-touching rings.
    polygons = shapely.set_precision(polygons, 0.01)
    disk = {(f, b): g for f, b, g in zip(facility, high, polygons)}
    smaller = np.array([disk.get((f, previous_break.get(b))) for f, b in zip(facility, high)],
                       dtype=object)
    has = np.array([g is not None for g in smaller], dtype=bool)
    rings = polygons.copy()
    rings[has] = shapely.difference(polygons[has], smaller[has], grid_size=0.01)
    return np.array([previous_break.get(b, 0.0) for b in high]), rings
