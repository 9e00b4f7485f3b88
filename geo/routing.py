"""Shortest travel times and routes on a :class:`~geo.network.RoadNetwork`.

The one shortest-path kernel of the project: scipy's compiled Dijkstra on the network's CSR arrays
(never networkx on a query path). Searches start from nodes or from snapped points; a snapped point
becomes a virtual node joined to the two ends of its road with the partial edge costs, so the first
and last part-edges are counted exactly. Every query takes optional per-edge arrays: ``blocked``
(edges that cannot be used) and ``cost_scale`` (a factor on each edge's cost), which is how hazard
zones and ad-hoc barriers reach the kernel without touching the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.errors import ValidationError
from geo.snapping import (
    DEFAULT_MAX_SNAP_M, Snapped, check_lonlat, require_on_network, snap_points,
)

WEIGHTS = ("travel_time_s", "length_m")
_NO_PREDECESSOR = -9999  # scipy's marker


def edge_costs(net, *, weight: str = "travel_time_s", blocked=None, cost_scale=None) -> np.ndarray:
    """Per-edge search costs: ``weight`` scaled by ``cost_scale``, ``inf`` where ``blocked``."""
    if weight not in WEIGHTS:
        raise ValidationError(f"weight: unknown weight {weight!r}; expected one of {', '.join(WEIGHTS)}")
    costs = np.asarray(getattr(net, f"edge_{weight}"), dtype=float)
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


def _graph(net, costs: np.ndarray, reverse: bool) -> sp.csr_array:
    graph = net.csr(costs, reverse=reverse)
    graph.indices = graph.indices.astype(np.int32, copy=False)
    graph.indptr = graph.indptr.astype(np.int32, copy=False)
    return graph


@dataclass(frozen=True)
class Search:
    """Result of one (multi-source) search.

    ``cost[n]`` is the cost from the nearest source to node ``n`` (to it, when ``reverse``), inf
    where not reached within the cutoff; ``source[n]`` the index of that source (-1 if none);
    ``predecessor[n]`` the previous node on the way (a virtual source node is ``n_nodes + i``).
    """

    cost: np.ndarray
    source: np.ndarray
    predecessor: np.ndarray
    costs: np.ndarray  # the per-edge costs searched with
    reverse: bool
    cutoff: float


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
    result = dijkstra(_graph(net, costs, reverse), directed=True, indices=nodes,
                      limit=_check_cutoff(cutoff), min_only=min_only)
    return result[0] if result.ndim == 2 and len(nodes) == 1 else result


def search_from_points(net, snapped: Snapped, *, cutoff=None, weight: str = "travel_time_s",
                       reverse: bool = False, blocked=None, cost_scale=None,
                       costs: np.ndarray | None = None) -> Search:
    """One multi-source search from snapped points (to them, when ``reverse``).

    Points not on the network take no part. Each node gets the cost from its nearest point and
    that point's index, so one pass assigns everything to its nearest facility.
    """
    if costs is None:
        costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale)
    limit = _check_cutoff(cutoff)
    active = np.flatnonzero(snapped.on_network)
    graph = _with_virtual_sources(net, costs, snapped, active, reverse)
    n = net.n_nodes
    if len(active) == 0:
        empty = np.full(n, np.inf)
        return Search(empty, np.full(n, -1), np.full(n, _NO_PREDECESSOR), costs, reverse, limit)
    cost, predecessor, source = dijkstra(graph, directed=True, indices=n + active, limit=limit,
                                         min_only=True, return_predecessors=True)
    label = np.where(source[:n] >= 0, source[:n] - n, -1)
    return Search(cost[:n], label, predecessor[:n], costs, reverse, limit)


def _point_links(net, costs, snapped: Snapped, points: np.ndarray, reverse: bool):
    """For each point, its links to the two ends of its road: (node, cost) pairs, inf if unusable.

    Leaving a point at fraction f of geometry A→B: to B along the forward edge costs (1-f)·c,
    to A along the backward edge f·c. Arriving (``reverse``) is the mirror image.
    """
    geom = snapped.geom[points]
    f = snapped.fraction[points]
    forward, backward = net.geom_edges[geom, 0], net.geom_edges[geom, 1]
    has_back = backward >= 0
    fwd_cost = costs[forward]
    back_cost = np.where(has_back, costs[np.where(has_back, backward, 0)], np.inf)
    start, end = net.edge_tail[forward], net.edge_head[forward]
    if reverse:  # arriving: from A via forward, from B via backward
        return (start, _part(f, fwd_cost)), (end, _part(1 - f, back_cost))
    return (end, _part(1 - f, fwd_cost)), (start, _part(f, back_cost))


def _part(fraction, cost):
    """``fraction * cost`` where an unusable (inf) edge stays inf even for fraction 0."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(cost), np.inf, fraction * cost)


def _with_virtual_sources(net, costs, snapped, points, reverse) -> sp.csr_array:
    """The network's CSR plus one virtual row per point (rows ``n_nodes + point index``)."""
    base = _graph(net, costs, reverse)
    n, k = net.n_nodes, len(snapped)
    counts = np.zeros(k, dtype=np.int64)
    targets, weights = np.empty(0, dtype=np.int32), np.empty(0)
    if len(points):
        (a_node, a_cost), (b_node, b_cost) = _point_links(net, costs, snapped, points, reverse)
        nodes = np.stack([a_node, b_node], axis=1)
        link_costs = np.stack([a_cost, b_cost], axis=1)
        usable = np.isfinite(link_costs)
        counts[points] = usable.sum(axis=1)
        targets, weights = nodes[usable].astype(np.int32), link_costs[usable]
    indptr = np.r_[base.indptr, base.indptr[-1] + np.cumsum(counts)].astype(np.int32)
    indices = np.r_[base.indices, targets]
    data = np.r_[base.data, weights]
    return sp.csr_array((data, indices, indptr), shape=(n + k, n + k))


def cost_to_points(net, search: Search, snapped: Snapped, *, sources: Snapped | None = None):
    """Cost of reaching each point of ``snapped`` in ``search`` (from them, when reversed), and
    the index of the source it is reached from, or (inf, -1).

    Pass the search's own ``sources`` so that a point on the same road as a source is also reached
    along that road directly, without passing a node.
    """
    cost = np.full(len(snapped), np.inf)
    label = np.full(len(snapped), -1)
    points = np.flatnonzero(snapped.on_network)
    if len(points) == 0:
        return cost, label
    # Reaching a point means arriving at it (leaving it, for a reversed search).
    (a_node, a_cost), (b_node, b_cost) = _point_links(net, search.costs, snapped, points,
                                                      not search.reverse)
    via_a = search.cost[a_node] + a_cost
    via_b = search.cost[b_node] + b_cost
    cost[points] = np.minimum(via_a, via_b)
    label[points] = np.where(via_a <= via_b, search.source[a_node], search.source[b_node])
    if sources is not None:
        _same_road(net, search, sources, snapped, points, cost, label)
    unreached = ~(cost <= search.cutoff)
    cost[unreached], label[unreached] = np.inf, -1
    return cost, label


def _same_road(net, search, sources, targets, points, cost, label) -> None:
    """Improve ``cost``/``label`` in place where a source and a target share a road."""
    src = np.flatnonzero(sources.on_network)
    by_geom = {}
    for i in src:
        by_geom.setdefault(int(sources.geom[i]), []).append(int(i))
    for t in points:
        for s in by_geom.get(int(targets.geom[t]), ()):
            direct = _along_road(net, search, sources.geom[s], sources.fraction[s],
                                 targets.fraction[t])
            if direct < cost[t]:
                cost[t], label[t] = direct, s


def _along_road(net, search, geom, f_source, f_target) -> float:
    """Cost from a source to a target on the same geometry without leaving it."""
    forward, backward = net.geom_edges[geom]
    if search.reverse:  # the search runs from the target to the source
        f_source, f_target = f_target, f_source
    if f_target >= f_source:
        return float(_part(f_target - f_source, search.costs[forward]))
    if backward < 0:
        return np.inf
    return float(_part(f_source - f_target, search.costs[backward]))


@dataclass(frozen=True)
class Route:
    """A route between two snapped points; ``geometry`` is a GeoJSON LineString (lon/lat)."""

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
    cost, _ = cost_to_points(net, search, end, sources=start)
    if not np.isfinite(cost[0]):
        return None
    time_s = edge_costs(net, weight="travel_time_s", blocked=blocked, cost_scale=cost_scale)
    return _trace(net, search, start, end, cost[0], time_s)


def _trace(net, search: Search, start: Snapped, end: Snapped, total: float, time_s) -> Route:
    """Rebuild the route behind ``total`` as edges with partial first and last pieces."""
    costs = search.costs
    pieces = _direct_piece(net, search, start, end, total)
    if pieces is None:
        (a_node, a_cost), (b_node, b_cost) = _point_links(net, costs, end, np.array([0]), True)
        arrive_a = search.cost[a_node[0]] + a_cost[0]
        last_node, last_edge = (a_node[0], _geom_edge(net, end, 0)) if arrive_a <= \
            search.cost[b_node[0]] + b_cost[0] else (b_node[0], _geom_edge(net, end, 1))
        nodes = _node_path(search.predecessor, last_node, net.n_nodes)
        first_edge = _first_edge(net, costs, start, nodes[0])
        middle = [_cheapest_edge(net, costs, u, v) for u, v in zip(nodes[:-1], nodes[1:])]
        pieces = ([(first_edge, _position(net, first_edge, start), 1.0)]
                  + [(e, 0.0, 1.0) for e in middle]
                  + [(last_edge, 0.0, _position(net, last_edge, end))])
    return _route_from_pieces(net, pieces, time_s, (start.snap_m[0], end.snap_m[0]))


def _direct_piece(net, search, start, end, total):
    """The single partial edge of a route that stays on the start's road, if that is the route."""
    if start.geom[0] != end.geom[0]:
        return None
    direct = _along_road(net, search, start.geom[0], start.fraction[0], end.fraction[0])
    if direct > total:
        return None
    forward, backward = net.geom_edges[start.geom[0]]
    edge = forward if end.fraction[0] >= start.fraction[0] else backward
    return [(edge, _position(net, edge, start), _position(net, edge, end))]


def _geom_edge(net, snapped, side) -> int:
    return int(net.geom_edges[snapped.geom[0], side])


def _position(net, edge, snapped) -> float:
    """Fraction along ``edge`` (in its travel direction) of a snapped point on its geometry."""
    f = float(snapped.fraction[0])
    return 1.0 - f if net.edge_reversed[edge] else f


def _first_edge(net, costs, start: Snapped, first_node: int) -> int:
    """The edge a route leaves its start point on, given the first node it reaches."""
    (b_node, to_b), (a_node, to_a) = _point_links(net, costs, start, np.array([0]), False)
    forward, backward = net.geom_edges[start.geom[0]]
    if b_node[0] == first_node and (a_node[0] != first_node or to_b[0] <= to_a[0]):
        return int(forward)
    return int(backward)


def _node_path(predecessor, node, n_nodes) -> list[int]:
    path = [int(node)]
    while predecessor[path[-1]] < n_nodes and predecessor[path[-1]] != _NO_PREDECESSOR:
        path.append(int(predecessor[path[-1]]))
    return path[::-1]


def _cheapest_edge(net, costs, u, v) -> int:
    out = net.fwd_edges[net.fwd_indptr[u]:net.fwd_indptr[u + 1]]
    out = out[net.edge_head[out] == v]
    return int(out[np.argmin(costs[out])])


def _route_from_pieces(net, pieces, time_s, snap_m) -> Route:
    total_time = sum((end - start) * time_s[e] for e, start, end in pieces)
    total_length = sum((end - start) * net.edge_length_m[e] for e, start, end in pieces)
    coords = np.concatenate([_edge_coords(net, e, start, end) for e, start, end in pieces])
    keep = np.r_[True, np.any(np.diff(coords, axis=0) != 0, axis=1)]
    coords = coords[keep]
    if len(coords) == 1:
        coords = np.vstack([coords, coords])
    lon, lat = net.to_lonlat.transform(coords[:, 0], coords[:, 1])
    geometry = {"type": "LineString",
                "coordinates": [[round(float(x), 7), round(float(y), 7)] for x, y in zip(lon, lat)]}
    return Route(float(total_time), float(total_length), tuple(float(s) for s in snap_m),
                 geometry, tuple(int(e) for e, _, _ in pieces))


def _edge_coords(net, edge, start: float, end: float) -> np.ndarray:
    """Projected coordinates of ``edge`` between fractions ``start`` and ``end`` of its length."""
    g = net.edge_geom[edge]
    xy = np.asarray(net.geom_xy[net.geom_offsets[g]:net.geom_offsets[g + 1]])
    if net.edge_reversed[edge]:
        xy = xy[::-1]
    return substring(xy, start, end)


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
