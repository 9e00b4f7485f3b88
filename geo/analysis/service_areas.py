"""Service areas: the part of the road network reached within each break, as polygons.

The one place that turns reached edges into polygons. For a break B, every directed edge
contributes the stretch of its geometry reached within B (edges at the cutoff are cut where the
budget runs out, by the exact cost along the road; a blocked stretch stops it), the facility's own
road contributes the stretch around it, and
the polygon is a buffer of those stretches. Areas that cannot be reached in time are therefore not
shown as covered, holes between roads stay holes, and a larger break's polygon contains a
smaller one's because its stretches contain theirs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.ranking import unreachable_reasons
from geo.core.jsonable import jsonable
from geo.core.validate import check_breaks, check_choice, lonlat_points, per_point_costs
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing.search import Search, cost_to_points, edge_costs, search_from_points
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, Snapped, snap_points

SHAPES = ("disks", "rings")
OVERLAPS = ("overlap", "split", "dissolve")
DIRECTIONS = ("from", "to")
# Half-width of the band around reached roads; a planner reads it as "along this road".
DEFAULT_BUFFER_M = {"walk": 40.0, "drive": 60.0}


@dataclass(frozen=True)
class Stretches:
    """Reached parts of road geometries: ``geom[i]`` from fraction ``start[i]`` to ``end[i]``,
    reached from facility ``facility[i]``."""

    geom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    facility: np.ndarray


def reached_stretches(net: RoadNetwork, search: Search, budget: float) -> Stretches:
    """The stretches of road reached within ``budget`` in ``search``: along each edge from the
    node it leaves (towards the node it enters, in a reverse search) as far as the budget left
    there goes, stopping at a blocked stretch."""
    tail, head = np.asarray(net.edge_tail), np.asarray(net.edge_head)
    entry = head if search.reverse else tail
    left = budget - search.cost[entry]
    edges = np.flatnonzero(left >= 0)
    # Position of the entry node on the edge's geometry, and the way the edge runs from it.
    along_geometry = ~np.asarray(net.edge_reversed)[edges] ^ search.reverse
    start = np.where(along_geometry, 0.0, 1.0)
    end = search.costs.reach(edges, start, left[edges], along_geometry)
    on_edges = Stretches(np.asarray(net.edge_geom)[edges], np.minimum(start, end),
                         np.maximum(start, end), search.source[entry[edges]])
    return _merged(_concat(on_edges, _own_roads(net, search, budget)))


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


def _own_roads(net: RoadNetwork, search: Search, budget: float) -> Stretches:
    """Around each facility, the stretch of its own road reached within the budget.

    Going out (a forward search), the forward edge covers the part towards the geometry's end
    and the backward edge the part towards its start; coming in, the other way round.
    """
    points = search.sources
    active = np.flatnonzero(points.on_network)
    left = budget - search.start_cost[active]
    active, left = active[left >= 0], left[left >= 0]
    geom, f = points.geom[active], points.fraction[active]
    forward, backward = net.geom_edges[geom, 0], net.geom_edges[geom, 1]
    to_end, to_start = (backward, forward) if search.reverse else (forward, backward)
    end = search.costs.reach(to_end, f, left, True)
    start = search.costs.reach(to_start, f, left, False)
    return Stretches(np.r_[geom, geom], np.r_[f, start], np.r_[end, f], np.r_[active, active])


def _concat(*parts: Stretches) -> Stretches:
    return Stretches(*(np.concatenate([getattr(p, name) for p in parts])
                       for name in ("geom", "start", "end", "facility")))


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


def band(lines, buffer_m: float):
    """The polygon of everything within ``buffer_m`` of the lines (holes kept)."""
    if len(lines) == 0:
        return shapely.Polygon()
    # Buffering each line and unioning is ~10x faster in GEOS than buffering one multi-line.
    return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=4))


@dataclass(frozen=True)
class ServiceAreaResult:
    """``areas``: one row per facility (None when dissolved) and break, with ``from_break``,
    ``to_break`` (seconds or metres, as ``unit``), ``area_m2``, ``population`` (the demand
    reached by network cost within the break: the same people coverage counts) and the polygon
    (EPSG:4326). ``unreachable``: the facilities off the network, with the reason and snap
    distance; they have no area."""

    areas: gpd.GeoDataFrame
    unreachable: pd.DataFrame
    breaks: np.ndarray
    unit: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"unit": self.unit, "breaks": jsonable(self.breaks),
                "areas": jsonable(self.areas.drop(columns="geometry").to_dict("records")),
                "unreachable_facilities": jsonable(self.unreachable.to_dict("records")),
                "notes": list(self.notes)}

    def features(self) -> gpd.GeoDataFrame:
        return self.areas


def service_areas(net: RoadNetwork, facilities, *, breaks, weight: str = "travel_time_s",
                  direction: str = "to", extra_cost=None, blocked=None, cost_scale=None,
                  effects=None, shape: str = "disks", overlap: str = "overlap",
                  buffer_m: float | None = None,
                  population: gpd.GeoDataFrame | None = None,
                  population_column: str = "population",
                  max_snap_m: float = DEFAULT_MAX_SNAP_M) -> ServiceAreaResult:
    """Service-area polygons of facilities (a GeoDataFrame or (lon, lat) arrays).

    ``breaks`` are in seconds (``weight="travel_time_s"``) or metres (``"length_m"``);
    ``direction`` "from" (teams going out) or "to" (people coming in); ``extra_cost`` one value
    per facility in the unit of the weight (turnout time, say). ``shape`` "disks" (0–break) or
    "rings" (between breaks); ``overlap`` "overlap" (one polygon per facility and break),
    "split" (each area to its nearest facility) or "dissolve" (one polygon per break).
    """
    breaks = check_breaks(breaks)
    check_choice("direction", direction, DIRECTIONS)
    check_choice("shape", shape, SHAPES)
    check_choice("overlap", overlap, OVERLAPS)
    ids, lon, lat = lonlat_points(facilities)
    snapped = snap_points(net, lon, lat, max_snap_m=max_snap_m)
    extra = per_point_costs("extra_cost", extra_cost, len(ids))
    costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale,
                       effects=effects)
    buffer_m = DEFAULT_BUFFER_M.get(net.mode, 50.0) if buffer_m is None else buffer_m
    demand = _Demand.of(net, population, population_column, max_snap_m)
    search_kw = {"costs": costs, "reverse": direction == "to", "cutoff": breaks[-1]}
    reach: dict[int | None, tuple[np.ndarray, np.ndarray]] = {}
    rows: list[tuple[int | None, float, object]]
    if overlap == "overlap":
        rows = []
        for i in np.flatnonzero(snapped.on_network):
            one = snapped.take([i])
            search = search_from_points(net, one, start_cost=None if extra is None else extra[[i]],
                                        **search_kw)
            reach[int(i)] = demand.reached(net, search)
            rows += [(int(i), b, poly) for b, poly in _disks(net, search, breaks, buffer_m)]
    else:
        search = search_from_points(net, snapped, start_cost=extra, **search_kw)
        reach[None] = demand.reached(net, search)
        if overlap == "dissolve":
            rows = [(None, b, poly) for b, poly in _disks(net, search, breaks, buffer_m)]
        else:
            rows = _split_disks(net, search, breaks, buffer_m)
    frame = _as_frame(rows, breaks, shape, net.crs)
    frame["population"] = demand.population(frame, reach, split=overlap == "split")
    frame["facility"] = [None if f is None else ids[f] for f in frame["facility"]]
    unit = "s" if weight == "travel_time_s" else "m"
    return ServiceAreaResult(to_lonlat(frame), _unreachable(snapped, ids), breaks, unit)


def _unreachable(snapped, ids) -> pd.DataFrame:
    reasons = unreachable_reasons(snapped, np.zeros(len(snapped), dtype=bool))
    off = np.flatnonzero(reasons != "")
    return pd.DataFrame({"facility": [ids[i] for i in off], "reason": reasons[off],
                         "snap_m": snapped.snap_m[off]}, columns=["facility", "reason", "snap_m"])


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

    def population(self, frame, reach, *, split: bool) -> np.ndarray:
        people = np.zeros(len(frame))
        if self.targets is None:
            return people
        for row, (facility, low, high) in enumerate(zip(
                frame["facility"], frame["from_break"], frame["to_break"])):
            cost, label = reach[None if split or facility is None else facility]
            within = (cost <= high) & ((cost > low) if low > 0 else True)
            if split:
                within &= label == facility
            people[row] = self.weights[within].sum()
        return people


def to_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject polygons to EPSG:4326, repairing the rare slivers reprojection makes invalid."""
    result = frame.to_crs("EPSG:4326")
    invalid = ~result.geometry.is_valid
    if invalid.any():
        result.loc[invalid, "geometry"] = shapely.make_valid(result.geometry[invalid].to_numpy())
    return result


def _disks(net: RoadNetwork, search, breaks, buffer_m):
    """Each break's polygon grown from the previous one by the stretches that are new or longer:
    nested exactly, and the inner area is not unioned again."""
    polygon, seen = None, set()
    for b in breaks:
        stretches = reached_stretches(net, search, b)
        keys = list(zip(stretches.geom.tolist(), stretches.start.tolist(),
                        stretches.end.tolist(), stretches.facility.tolist()))
        new = np.array([key not in seen for key in keys], dtype=bool)
        seen.update(keys)
        lines = stretch_lines(net, _take(stretches, new))
        grown = band(lines, buffer_m)
        polygon = grown if polygon is None else shapely.union(polygon, grown)
        yield b, polygon


def _take(arrays, index):
    """The same dataclass of arrays, each indexed by ``index``."""
    return type(arrays)(*(getattr(arrays, f.name)[index] for f in dataclasses.fields(arrays)))


def _split_disks(net: RoadNetwork, search, breaks, buffer_m):
    """Per break, the dissolved area divided between facilities: each piece of it goes to the
    facility whose reached roads are nearest (Voronoi cells of points along those roads)."""
    rows = []
    for b in breaks:
        stretches = reached_stretches(net, search, b)
        lines = stretch_lines(net, stretches)
        whole = band(lines, buffer_m)
        cells = _nearest_road_cells(lines, stretches.facility, buffer_m, whole)
        for facility, cell in cells.items():
            piece = shapely.intersection(whole, cell)
            if not piece.is_empty:
                rows.append((facility, b, piece))
    return rows


def _nearest_road_cells(lines, facility, spacing, extent) -> dict:
    if len(lines) == 0:
        return {}
    dense = shapely.segmentize(lines, spacing / 2)
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


def _as_frame(rows, breaks, shape, crs) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"facility": pd.Series([f for f, _, _ in rows], dtype=object),
         "to_break": np.array([b for _, b, _ in rows], dtype=float)},
        geometry=[poly for _, _, poly in rows], crs=crs)
    frame["from_break"] = 0.0
    if shape == "rings" and len(frame):
        frame = _rings(frame, breaks)
    frame["area_m2"] = frame.geometry.area
    return frame[["facility", "from_break", "to_break", "area_m2", "geometry"]]


def _rings(frame, breaks) -> gpd.GeoDataFrame:
    previous_break = dict(zip(breaks[1:], breaks[:-1]))
    key = frame["facility"].astype(object).where(frame["facility"].notna(), "__all__")
    inner = {(k, b): g for k, b, g in zip(key, frame["to_break"], frame.geometry)}
    rings = []
    for k, b, g in zip(key, frame["to_break"], frame.geometry):
        smaller = inner.get((k, previous_break.get(b)))
        rings.append(g if smaller is None else shapely.difference(g, smaller))
    frame = frame.set_geometry(rings)
    frame["from_break"] = [previous_break.get(b, 0.0) for b in frame["to_break"]]
    return frame
