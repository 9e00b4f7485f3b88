"""Shortest travel times and routes on a :class:`~geo.network.RoadNetwork`.

All searches go through the project's one shortest-path kernel (:mod:`geo.kernel`, scipy's
compiled Dijkstra on the network's CSR arrays; never networkx on a query path). Searches start
from nodes or from snapped points; a snapped point becomes a virtual node joined to the two ends
of its road with the partial edge costs, so the first and last part-edges are counted exactly.
Every query takes optional per-edge arrays: ``blocked`` (edges that cannot be used) and
``cost_scale`` (a factor on each edge's cost), which is how hazard zones and ad-hoc barriers
reach the kernel without touching the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo import kernel
from geo._validate import per_point_costs
from geo.errors import ValidationError
from geo.snapping import (
    DEFAULT_MAX_SNAP_M,
    Snapped,
    check_lonlat,
    require_on_network,
    snap_points,
)

WEIGHTS = ("travel_time_s", "length_m")
_NO_PREDECESSOR = -9999  # scipy's marker


def edge_costs(net, *, weight: str = "travel_time_s", blocked=None, cost_scale=None) -> np.ndarray:
    """Per-edge search costs: ``weight`` scaled by ``cost_scale``, ``inf`` where ``blocked``."""
    if weight not in WEIGHTS:
        raise ValidationError(
            f"weight: unknown weight {weight!r}; expected one of {', '.join(WEIGHTS)}")
    costs = getattr(net, f"edge_{weight}")  # the read-only array itself: the kernel reuses it
    if cost_scale is not None:
        scale = _edge_array(net, cost_scale, "cost_scale", float)
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            raise ValidationError("cost_scale: factors must be finite and positive "
                                  "(use blocked= for impassable edges)")
        costs = costs * scale
    if blocked is not None:
        costs = np.where(_edge_array(net, blocked, "blocked", bool), np.inf, costs)
    return costs


def _edge_array(net, values, name: str, dtype) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.shape != (net.n_edges,):
        raise ValidationError(f"{name}: expected one value per edge ({net.n_edges}), "
                              f"got shape {array.shape}")
    return array


def _check_cutoff(cutoff) -> float:
    if cutoff is None:
        return np.inf
    if not (isinstance(cutoff, (int, float, np.number)) and cutoff >= 0 and not np.isnan(cutoff)):
        raise ValidationError(f"cutoff: must be a non-negative number, got {cutoff!r}")
    return float(cutoff)


@dataclass(frozen=True)
class Search:
    """Result of one (multi-source) search.

    ``cost[n]`` is the cost from the nearest source to node ``n`` (from ``n`` to it, when
    ``reverse``), inf where not reached within ``cutoff``; ``source[n]`` the index of that source
    (-1 if none); ``predecessor[n]`` the node before ``n`` in the search tree (for a reverse search,
    the next node on the way to the source); a virtual source node is ``n_nodes + i``.
    """

    cost: np.ndarray
    source: np.ndarray
    predecessor: np.ndarray
    costs: np.ndarray  # the per-edge costs searched with
    reverse: bool
    cutoff: float
    sources: Snapped | None = None
    start_cost: np.ndarray | None = None  # extra cost per source (turnout time, say)


def shortest_from_nodes(net, nodes, *, cutoff=None, weight: str = "travel_time_s",
                        reverse: bool = False, blocked=None, cost_scale=None,
                        min_only: bool = False) -> np.ndarray:
    """Costs from network nodes to every node (to them, when ``reverse``).

    One source gives a 1-D array; several give one row per source, or with ``min_only`` the cost
    from the nearest source. ``inf`` marks nodes not reached within ``cutoff``.
    """
    nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
    if ((nodes < 0) | (nodes >= net.n_nodes)).any():
        raise ValidationError(f"nodes: node indices must be in 0..{net.n_nodes - 1}")
    costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale)
    result = kernel.search(net, costs, nodes, reverse=reverse, limit=_check_cutoff(cutoff),
                           min_only=min_only)
    return result[0] if result.ndim == 2 and len(nodes) == 1 else result


def search_from_points(net, snapped: Snapped, *, cutoff=None, weight: str = "travel_time_s",
                       reverse: bool = False, blocked=None, cost_scale=None,
                       costs: np.ndarray | None = None, start_cost=None) -> Search:
    """One multi-source search from snapped points (to them, when ``reverse``).

    Points not on the network take no part. Each node gets the cost from its nearest point and
    that point's index, so one pass assigns everything to its nearest facility. ``start_cost``
    (one value per point, e.g. a team's turnout time) is added to everything a point reaches.
    """
    if costs is None:
        costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale)
    start = per_point_costs("start_cost", start_cost, len(snapped))
    start = np.zeros(len(snapped)) if start is None else start
    limit = _check_cutoff(cutoff)
    active = np.flatnonzero(snapped.on_network)
    n = net.n_nodes
    if len(active) == 0:
        return Search(np.full(n, np.inf), np.full(n, -1), np.full(n, _NO_PREDECESSOR), costs,
                      reverse, limit, snapped, start)
    rows = _virtual_rows(net, costs, snapped, active, reverse, start)
    cost, predecessor, source = kernel.search(net, costs, n + active, reverse=reverse,
                                              virtual_rows=rows, limit=limit, min_only=True,
                                              return_predecessors=True)
    label = np.where(source[:n] >= 0, source[:n] - n, -1)
    return Search(cost[:n], label, predecessor[:n], costs, reverse, limit, snapped, start)


def _links(net, costs, snapped: Snapped, points, *, leaving: bool):
    """Each point's two links to the ends of its road, as (node, cost, edge) arrays per side.

    A point at fraction f of geometry A→B, leaving: to B along the forward edge costs (1-f)·c,
    to A along the backward edge f·c. Arriving: from A along the forward edge f·c, from B along
    the backward edge (1-f)·c. A missing or blocked edge costs inf.
    """
    points = np.atleast_1d(points)
    geom = snapped.geom[points]
    f = snapped.fraction[points]
    forward, backward = net.geom_edges[geom, 0], net.geom_edges[geom, 1]
    has_back = backward >= 0
    fwd_cost = costs[forward]
    back_cost = np.where(has_back, costs[np.where(has_back, backward, 0)], np.inf)
    a, b = net.edge_tail[forward], net.edge_head[forward]
    if leaving:
        return (b, _part(1 - f, fwd_cost), forward), (a, _part(f, back_cost), backward)
    return (a, _part(f, fwd_cost), forward), (b, _part(1 - f, back_cost), backward)


def _part(fraction, cost):
    """``fraction * cost`` of an edge; inf for an unusable (missing or blocked) edge, except
    that a point sitting exactly on the node (fraction 0) reaches it at no cost: a team parked
    at the start of a one-way street does not have to drive the street first."""
    with np.errstate(invalid="ignore"):
        return np.where(fraction <= 0, 0.0, np.where(np.isinf(cost), np.inf, fraction * cost))


def _virtual_rows(net, costs, snapped, points, reverse, start) -> list:
    """One virtual row per snapped point (numbered ``n_nodes + point index``): its links to the
    ends of its road. In a reverse search the graph is reversed, so a row holds the links
    *arriving* at the point. Points off the network get an empty row."""
    rows = [(np.empty(0, dtype=np.int32), np.empty(0))] * len(snapped)
    side_a, side_b = _links(net, costs, snapped, points, leaving=not reverse)
    nodes = np.stack([side_a[0], side_b[0]], axis=1)
    link_costs = np.stack([side_a[1], side_b[1]], axis=1) + start[points, None]
    usable = np.isfinite(link_costs)
    for row, i in enumerate(points):
        rows[i] = (nodes[row][usable[row]], link_costs[row][usable[row]])
    return rows


def cost_to_points(net, search: Search, targets: Snapped):
    """For each target point: the cost of reaching it in ``search`` (of reaching the sources
    from it, when reversed) and the index of the source involved; (inf, -1) when not reached
    within the search's cutoff. A target on the same road as a source is also reached along that
    road directly."""
    cost = np.full(len(targets), np.inf)
    label = np.full(len(targets), -1)
    points = np.flatnonzero(targets.on_network)
    if len(points) == 0:
        return cost, label
    side_a, side_b = _links(net, search.costs, targets, points, leaving=search.reverse)
    via_a = search.cost[side_a[0]] + side_a[1]
    via_b = search.cost[side_b[0]] + side_b[1]
    cost[points] = np.minimum(via_a, via_b)
    label[points] = np.where(via_a <= via_b, search.source[side_a[0]], search.source[side_b[0]])
    for t, s, direct, _ in _same_road_pairs(net, search, targets, points):
        if direct < cost[t]:
            cost[t], label[t] = direct, s
    unreached = ~(cost <= search.cutoff)
    cost[unreached], label[unreached] = np.inf, -1
    return cost, label


def _same_road_pairs(net, search: Search, targets: Snapped, points):
    """(target, source, cost, edge) for every source on the same road as a target, travelling
    along that road only."""
    sources = search.sources
    by_geom: dict[int, list[int]] = {}
    for s in np.flatnonzero(sources.on_network):
        by_geom.setdefault(int(sources.geom[s]), []).append(int(s))
    if not by_geom:
        return
    points = np.asarray(points)
    shared = points[np.isin(targets.geom[points], list(by_geom))]  # the rare few, no loop
    for t in shared:
        for s in by_geom[int(targets.geom[t])]:
            f_from, f_to = sources.fraction[s], targets.fraction[t]
            if search.reverse:
                f_from, f_to = f_to, f_from
            cost, edge = _along_road(net, search.costs, int(targets.geom[t]), f_from, f_to)
            yield int(t), s, cost + search.start_cost[s], edge


def _along_road(net, costs, geom, f_from, f_to) -> tuple[float, int]:
    """Cost and edge of travelling along one geometry from fraction ``f_from`` to ``f_to``."""
    forward, backward = net.geom_edges[geom]
    if f_to >= f_from:
        return float(_part(f_to - f_from, costs[forward])), int(forward)
    if backward < 0:
        return np.inf, -1
    return float(_part(f_from - f_to, costs[backward])), int(backward)


# Tracing: a reached target back to its source, as pieces (edge, from fraction, to fraction)
# in travel order, fractions along the edge's own direction.

def trace(net, search: Search, targets: Snapped, t: int) -> list[tuple[int, float, float]] | None:
    """The path behind ``cost_to_points(...)[t]``, or None if the target was not reached."""
    if not targets.on_network[t]:
        return None
    candidates = []
    for node, link, edge in _as_rows(_links(net, search.costs, targets, t,
                                            leaving=search.reverse)):
        candidates.append((search.cost[node] + link, "node", node, edge))
    for _, s, direct, edge in _same_road_pairs(net, search, targets, [t]):
        candidates.append((direct, "road", s, edge))
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
        last_edge = _source_edge(net, search, s, chain[-1], leaving=False)
        last = (last_edge, 0.0, _position(net, last_edge, sources, s))
        nodes = chain
    else:
        nodes = chain[::-1]
        first_edge = _source_edge(net, search, s, nodes[0], leaving=True)
        first = (first_edge, _position(net, first_edge, sources, s), 1.0)
        last = (edge, 0.0, _position(net, edge, targets, t))
    middle = [(e, 0.0, 1.0) for e in _cheapest_edges(net, search.costs, nodes[:-1], nodes[1:])]
    return _drop_empty(net, [first, *middle, last], targets, t)


def _drop_empty(net, pieces, targets: Snapped, t: int):
    """Leave out zero-length end pieces (a point sitting on a node), keeping at least one."""
    kept = [(e, a, b) for e, a, b in pieces if e >= 0 and b > a]
    if kept:
        return kept
    edge = int(net.geom_edges[targets.geom[t], 0])
    at = _position(net, edge, targets, t)
    return [(edge, at, at)]


def _as_rows(sides):
    return [(int(node[0]), float(cost[0]), int(edge[0])) for node, cost, edge in sides]


def _node_chain(predecessor, node, n_nodes) -> list[int]:
    """``node`` and its predecessors up to (not including) the virtual source."""
    chain = [int(node)]
    while 0 <= predecessor[chain[-1]] < n_nodes:
        chain.append(int(predecessor[chain[-1]]))
    return chain


def _source_edge(net, search: Search, s: int, node: int, *, leaving: bool) -> int:
    """The edge joining source point ``s`` to ``node`` in the search (the cheaper if both do)."""
    rows = _as_rows(_links(net, search.costs, search.sources, s, leaving=leaving))
    return min((cost, edge) for n, cost, edge in rows if n == node)[1]


def _position(net, edge, snapped: Snapped, i: int) -> float:
    """Fraction along ``edge`` (in its travel direction) of snapped point ``i``."""
    if edge < 0:  # no such edge: a zero-length link of a point sitting on a node
        return 0.0
    f = float(snapped.fraction[i])
    return 1.0 - f if net.edge_reversed[edge] else f


def _cheapest_edges(net, costs, tails, heads) -> list[int]:
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


def route(net, origin: tuple[float, float], destination: tuple[float, float], *,
          weight: str = "travel_time_s", blocked=None, cost_scale=None,
          max_snap_m: float = DEFAULT_MAX_SNAP_M,
          fields: tuple[str, str] = ("origin", "destination")) -> Route | None:
    """Fastest (or shortest, ``weight="length_m"``) route between two (lat, lon) points.

    Raises :class:`~geo.errors.PointError` naming ``fields`` for points that cannot be used;
    returns None when the destination cannot be reached (blocked roads).
    """
    snapped = []
    for field, (lat, lon) in zip(fields, (origin, destination)):
        check_lonlat(net, lon, lat, field=field, margin_m=max_snap_m)
        point = snap_points(net, lon, lat, max_snap_m=max_snap_m)
        require_on_network(point, field=field, max_snap_m=max_snap_m)
        snapped.append(point)
    start, end = snapped
    search = search_from_points(net, start, weight=weight, blocked=blocked, cost_scale=cost_scale)
    pieces = trace(net, search, end, 0)
    if pieces is None:
        return None
    time_s = edge_costs(net, weight="travel_time_s", blocked=blocked, cost_scale=cost_scale)
    return route_from_pieces(net, pieces, time_s=time_s,
                             snap_m=(start.snap_m[0], end.snap_m[0]))


def route_from_pieces(net, pieces, *, time_s, snap_m) -> Route:
    """Totals and GeoJSON geometry of a traced path; ``time_s`` are per-edge travel times."""
    total_time = sum((end - start) * time_s[e] for e, start, end in pieces)
    total_length = sum((end - start) * net.edge_length_m[e] for e, start, end in pieces)
    coords = np.concatenate([_edge_coords(net, e, start, end) for e, start, end in pieces])
    keep = np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]
    coords = coords[keep]
    if len(coords) == 1:
        coords = np.vstack([coords, coords])
    lon, lat = net.to_lonlat.transform(coords[:, 0], coords[:, 1])
    geometry = {"type": "LineString",
                "coordinates": np.round(np.column_stack([lon, lat]), 7).tolist()}
    return Route(float(total_time), float(total_length), tuple(float(s) for s in snap_m),
                 geometry, tuple(int(e) for e, _, _ in pieces))


def _edge_coords(net, edge, start: float, end: float) -> np.ndarray:
    """Projected coordinates of ``edge`` between fractions ``start`` and ``end`` of its length."""
    g = net.edge_geom[edge]
    xy = net.geom_xy[net.geom_offsets[g]:net.geom_offsets[g + 1]]
    if net.edge_reversed[edge]:
        xy = xy[::-1]
    return xy if start <= 0.0 and end >= 1.0 else substring(xy, start, end)


def substring(xy: np.ndarray, start: float, end: float) -> np.ndarray:
    """The part of polyline ``xy`` between fractions ``start`` and ``end`` of its length."""
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    total = along[-1]
    if total == 0:
        return xy[:1].repeat(2, axis=0)
    a, b = start * total, end * total
    inner = xy[(along > a) & (along < b)]
    point_a = np.array([np.interp(a, along, xy[:, 0]), np.interp(a, along, xy[:, 1])])
    point_b = np.array([np.interp(b, along, xy[:, 0]), np.interp(b, along, xy[:, 1])])
    return np.vstack([point_a, inner, point_b])
