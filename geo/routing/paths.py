"""Paths: a reached target traced back to its source, and routes with their GeoJSON geometry.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from geo.network.model import RoadNetwork
from geo.routing.bidirectional import Meeting, meet
from geo.routing.costs import EdgeCosts, RoadEffects, edge_costs
from geo.routing.search import Search, road_links, same_road_pairs
from geo.routing.snapping import (
    DEFAULT_MAX_SNAP_M,
    Snapped,
    require_on_network,
    snap_point,
)

# Tracing: a reached target back to its source, as pieces (edge, from fraction, to fraction)
# in travel order, fractions along the edge's own direction.

def trace(net: RoadNetwork, search: Search, targets: Snapped,
          t: int) -> list[tuple[int, float, float]] | None:
    """The path behind ``cost_to_points(...)[t]``, or None if the target was not reached."""
    return traces(net, search, targets, [t])[0]


def traces(net: RoadNetwork, search: Search, targets: Snapped,
           points) -> list[list[tuple[int, float, float]] | None]:
    """:func:`trace` of each of ``points``, their links to their roads' ends looked up at once
    (per point, that lookup cost more than following the path)."""
    points = [int(t) for t in points]
    on = [t for t in points if targets.on_network[t]]
    sides = road_links(net, search.costs, targets, np.array(on, dtype=np.int64),
                       leaving=search.reverse) if on else ()
    links = {t: [(int(node[i]), float(cost[i]), int(edge[i])) for node, cost, edge in sides]
             for i, t in enumerate(on)}
    return [_traced(net, search, targets, t, links[t]) if t in links else None for t in points]


def _traced(net: RoadNetwork, search: Search, targets: Snapped, t: int,
            links: list[tuple[int, float, int]]) -> list[tuple[int, float, float]] | None:
    """The path to (from) target ``t`` on the network, given its (node, cost, edge) links."""
    candidates: list[tuple[float, str, int, int]] = []
    for node, link, edge in links:
        candidates.append((float(search.cost[node] + link), "node", node, edge))
    if targets.geom[t] in search.sources.geom:  # (the join below costs more than this test)
        for s, _, direct, edge in zip(*same_road_pairs(net, search, targets, [t])):
            candidates.append((float(direct), "road", int(s), int(edge)))
    total, kind, at, edge = min(candidates, key=lambda c: c[0])
    if not (np.isfinite(total) and total <= search.cutoff):
        return None
    sources = search.sources
    if kind == "road":
        ends = (sources, at, targets, t) if not search.reverse else (targets, t, sources, at)
        return _drop_empty(net, [(edge, _position(net, edge, *ends[:2]),
                                  _position(net, edge, *ends[2:]))], targets, t)
    chain = _node_chain(search.predecessor, at, net.n_nodes)
    s = int(search.predecessor[chain[-1]]) - net.n_nodes
    if search.reverse:  # target → ... → source: the chain is already in travel order
        first = (edge, _position(net, edge, targets, t), 1.0)
        last_edge = _source_edge(search, s, chain[-1])
        last = (last_edge, 0.0, _position(net, last_edge, sources, s))
        nodes = chain
    else:
        nodes = chain[::-1]
        first_edge = _source_edge(search, s, nodes[0])
        first = (first_edge, _position(net, first_edge, sources, s), 1.0)
        last = (edge, 0.0, _position(net, edge, targets, t))
    middle = [(e, 0.0, 1.0)
              for e in _cheapest_edges(net, search.costs.full, nodes[:-1], nodes[1:])]
    return _drop_empty(net, [first, *middle, last], targets, t)


def _drop_empty(net: RoadNetwork, pieces, targets: Snapped, t: int):
    """Leave out zero-length end pieces (a point sitting on a node), keeping at least one."""
    kept = [(e, a, b) for e, a, b in pieces if e >= 0 and b > a]
    if kept:
        return kept
    edge = int(net.geom_edges[targets.geom[t], 0])
    at = _position(net, edge, targets, t)
    return [(edge, at, at)]


def _node_chain(predecessor, node, n_nodes) -> list[int]:
    """``node`` and its predecessors up to (not including) the virtual source."""
    chain = [int(node)]
    while 0 <= predecessor[chain[-1]] < n_nodes:
        chain.append(int(predecessor[chain[-1]]))
    return chain


def _source_edge(search: Search, s: int, node: int) -> int:
    """The edge joining source point ``s`` to ``node`` in the search (the cheaper if both do)."""
    return min((cost, edge) for n, cost, edge in search.source_links[s] if n == node)[1]


def _position(net: RoadNetwork, edge, snapped: Snapped, i: int) -> float:
    """Fraction along ``edge`` (in its travel direction) of snapped point ``i``."""
    if edge < 0:  # no such edge: a zero-length link of a point sitting on a node
        return 0.0
    f = float(snapped.fraction[i])
    return 1.0 - f if net.edge_reversed[edge] else f


def _cheapest_edges(net: RoadNetwork, costs, tails, heads) -> list[int]:
    """For each consecutive pair of path nodes, the cheapest edge joining them."""
    if len(tails) == 0:
        return []
    keys, order = net.edge_keys
    wanted = np.asarray(tails, dtype=np.int64) * net.n_nodes + np.asarray(heads, dtype=np.int64)
    lo = np.searchsorted(keys, wanted, side="left")
    hi = np.searchsorted(keys, wanted, side="right")
    edges = order[lo]
    for i in np.flatnonzero(hi - lo > 1):  # parallel edges: take the cheapest
        candidates = order[lo[i]:hi[i]]
        edges[i] = candidates[np.argmin(costs[candidates])]
    return edges.tolist()


@dataclass(frozen=True)
class Route:
    """A route; ``geometry`` is a GeoJSON LineString (lon/lat) from start point to end point."""

    travel_time_s: float
    length_m: float
    snap_m: tuple[float, float]
    geometry: dict
    edges: tuple[int, ...]

    def to_dict(self) -> dict:
        return {"travel_time_s": self.travel_time_s, "length_m": self.length_m,
                "snap_m": list(self.snap_m), "geometry": self.geometry}


def route(net: RoadNetwork, origin: tuple[float, float], destination: tuple[float, float], *,
          weight: str = "travel_time_s", blocked=None, cost_scale=None,
          effects: RoadEffects | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
          fields: tuple[str, str] = ("origin", "destination")) -> Route | None:
    """Fastest (or shortest, ``weight="length_m"``) route between two (lon, lat) points, by a
    bounded bidirectional search (:mod:`geo.routing.bidirectional`).

    Raises :class:`~geo.errors.PointError` naming ``fields`` for points that cannot be used;
    returns None when the destination cannot be reached (blocked roads).
    """
    snapped = []
    for field, lonlat in zip(fields, (origin, destination)):
        point = snap_point(net, lonlat, field=field, max_snap_m=max_snap_m)
        require_on_network(point, field=field, max_snap_m=max_snap_m)
        snapped.append(point)
    start, end = snapped
    barriers = {"blocked": blocked, "cost_scale": cost_scale, "effects": effects}
    costs = edge_costs(net, weight=weight, **barriers)
    pieces = _meeting_pieces(net, meet(net, costs, start, end), start, end)
    if pieces is None:
        return None
    time_s = costs if weight == "travel_time_s" else edge_costs(net, weight="travel_time_s",
                                                                **barriers)
    return route_from_pieces(net, pieces, time_s=time_s,
                             snap_m=(start.snap_m[0], end.snap_m[0]))


def _meeting_pieces(net: RoadNetwork, meeting: Meeting, start: Snapped,
                    end: Snapped) -> list[tuple[int, float, float]] | None:
    """The pieces of the path a bidirectional search found (as :func:`trace` gives them for a
    one-way search), or None when there is none."""
    if not (meeting.direct < meeting.cost or np.isfinite(meeting.cost)):
        return None
    if meeting.direct < meeting.cost:
        edge = meeting.direct_edge
        return _drop_empty(net, [(edge, _position(net, edge, start, 0),
                                  _position(net, edge, end, 0))], end, 0)
    n = net.n_nodes
    nodes = [] if meeting.tail < 0 else _node_chain(meeting.forward.predecessor,
                                                     meeting.tail, n)[::-1]
    if meeting.head >= 0:
        nodes += _node_chain(meeting.backward.predecessor, meeting.head, n)
    first_edge = _source_edge(meeting.forward, 0, nodes[0])
    last_edge = _source_edge(meeting.backward, 0, nodes[-1])
    middle = [(e, 0.0, 1.0)
              for e in _cheapest_edges(net, meeting.forward.costs.full, nodes[:-1], nodes[1:])]
    return _drop_empty(net, [(first_edge, _position(net, first_edge, start, 0), 1.0), *middle,
                             (last_edge, 0.0, _position(net, last_edge, end, 0))], end, 0)


def route_from_pieces(net: RoadNetwork, pieces, *, time_s: EdgeCosts, snap_m) -> Route:
    """Totals and GeoJSON geometry of a traced path; ``time_s`` are the travel-time costs."""
    return routes_from_pieces(net, [pieces], time_s=time_s, snap_m=[snap_m])[0]


def routes_from_pieces(net: RoadNetwork, paths, *, time_s: EdgeCosts, snap_m) -> list[Route]:
    """:func:`route_from_pieces` for several traced paths (``snap_m`` one pair per path), with
    the costs of all their pieces looked up at once and one reprojection of all their points."""
    pieces = [piece for path in paths for piece in path]
    edges = np.array([e for e, _, _ in pieces])
    start, end = np.array([p[1:] for p in pieces], dtype=float).T
    flip = np.asarray(net.edge_reversed)[edges]
    lo, hi = np.where(flip, 1 - end, start), np.where(flip, 1 - start, end)
    times = time_s.span(edges, lo, hi)
    lengths = edge_costs(net, weight="length_m").span(edges, lo, hi)
    every, sizes = _distinct_points([_path_coords(net, path) for path in paths])
    lon, lat = net.to_lonlat.transform(every[:, 0], every[:, 1])
    lonlat = np.round(np.column_stack([lon, lat]), 7).tolist()
    routes, first, at = [], 0, 0
    for path, size, snap in zip(paths, sizes, snap_m):
        span = slice(first, first + len(path))
        points = lonlat[at:at + size]
        geometry = {"type": "LineString", "coordinates": points * 2 if size == 1 else points}
        routes.append(Route(float(times[span].sum()), float(lengths[span].sum()),
                            (float(snap[0]), float(snap[1])), geometry,
                            tuple(int(e) for e, _, _ in path)))
        first, at = first + len(path), at + size
    return routes


def _distinct_points(coords: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The paths' points one after another, each path without repeats of a point in a row
    (where pieces meet), and how many each path keeps; all paths in one pass."""
    every = np.concatenate(coords)
    sizes = [len(xy) for xy in coords]
    firsts = np.cumsum([0, *sizes[:-1]])
    keep = np.empty(len(every), dtype=bool)
    keep[0] = True
    np.any(every[1:] != every[:-1], axis=1, out=keep[1:])
    keep[firsts] = True
    return every[keep], np.add.reduceat(keep, firsts).tolist()


def _path_coords(net: RoadNetwork, pieces) -> np.ndarray:
    """Projected coordinates along the pieces in order: runs of whole edges (every piece but
    the first and last, usually) gathered together, parts of edges cut."""
    parts: list[np.ndarray] = []
    whole: list[int] = []
    for edge, start, end in pieces:
        if start <= 0.0 and end >= 1.0:
            whole.append(edge)
            continue
        if whole:
            parts.append(_whole_edges_coords(net, whole))
            whole = []
        parts.append(_edge_coords(net, edge, start, end))
    if whole:
        parts.append(_whole_edges_coords(net, whole))
    return np.concatenate(parts)


# Up to this many edges a run of whole edges is gathered by slicing each edge's points, above it
# with one index array (a dozen array operations whose set-up costs as much as ~30 slices).
MAX_SLICED_EDGES = 32


def _whole_edges_coords(net: RoadNetwork, edges: list[int]) -> np.ndarray:
    """The coordinates of whole ``edges`` one after another, each in its travel direction."""
    if len(edges) <= MAX_SLICED_EDGES:
        return np.concatenate([_edge_points(net, edge) for edge in edges])
    edge_array = np.asarray(edges)
    geoms = np.asarray(net.edge_geom)[edge_array]
    first, after = net.geom_offsets[geoms], net.geom_offsets[geoms + 1]
    counts = after - first
    owner = np.repeat(np.arange(len(edge_array)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    reversed_ = np.asarray(net.edge_reversed)[edge_array][owner]
    index = np.where(reversed_, after[owner] - 1 - within, first[owner] + within)
    return net.geom_xy[index]


def _edge_points(net: RoadNetwork, edge: int) -> np.ndarray:
    """Projected coordinates of ``edge``'s points in its travel direction (a view)."""
    g = net.edge_geom[edge]
    xy = net.geom_xy[net.geom_offsets[g]:net.geom_offsets[g + 1]]
    return xy[::-1] if net.edge_reversed[edge] else xy


def _edge_coords(net: RoadNetwork, edge, start: float, end: float) -> np.ndarray:
    """Projected coordinates of ``edge`` between fractions ``start`` and ``end`` of its length."""
    xy = _edge_points(net, edge)
    if start <= 0.0 and end >= 1.0:
        return xy
    return np.array(substring(xy.tolist(), start, end))


def substring(xy: list[list[float]], start: float, end: float) -> list[list[float]]:
    """The part of polyline ``xy`` (a list of [x, y]) between fractions ``start`` and ``end``
    of its length. Plain Python: a road's few points cost less so than as arrays."""
    along = [0.0]
    for (x0, y0), (x1, y1) in zip(xy, xy[1:]):
        along.append(along[-1] + math.hypot(x1 - x0, y1 - y0))
    total = along[-1]
    if total == 0:
        return [xy[0], xy[0]]
    a, b = start * total, end * total
    inner = [point for point, at in zip(xy, along) if a < at < b]
    return [_point_at(xy, along, a), *inner, _point_at(xy, along, b)]


def _point_at(xy: list[list[float]], along: list[float], at: float) -> list[float]:
    """The point ``at`` metres along the polyline (``along``: its points' distances)."""
    i = bisect.bisect_right(along, at) - 1
    if i >= len(along) - 1:
        return xy[-1]
    i = max(i, 0)
    share = (at - along[i]) / (along[i + 1] - along[i])
    return [xy[i][0] + share * (xy[i + 1][0] - xy[i][0]),
            xy[i][1] + share * (xy[i + 1][1] - xy[i][1])]
