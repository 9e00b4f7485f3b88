"""Shortest travel times and routes on a :class:`~geo.network.RoadNetwork`.

All searches go through scipy's compiled Dijkstra on the network's CSR arrays
(:mod:`geo.routing.kernel`; never networkx on a query path), except those asked for
``compiled=True`` (service areas): a bounded Dijkstra of our own on the same arrays
(:mod:`geo.routing.compiled_search`) that touches only the nodes it reaches, for callers that
import numba anyway. Both answer with a :class:`Search` and are held to the same references in
the tests. Searches start
from nodes or from snapped points; a snapped point becomes a virtual node joined to the two ends
of its road with the exact costs of those parts of the road (:mod:`geo.routing.costs`), so the
first and last part-edges are counted exactly. Every query takes ``effects`` (stretches of road
blocked or slowed: hazards and barriers) and optional per-edge arrays ``blocked`` (whole edges
that cannot be used) and ``cost_scale`` (a factor on each edge's cost); the network is never
edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from geo.core.validate import check_cutoff, per_point_costs
from geo.errors import ValidationError
from geo.network.model import RoadNetwork
from geo.routing import kernel
from geo.routing.costs import WEIGHTS, EdgeCosts, RoadEffects, edge_costs
from geo.routing.snapping import Snapped

__all__ = ["WEIGHTS", "EdgeCosts", "Reached", "RoadEffects", "Search", "cost_to_points",
           "edge_costs", "road_links", "same_road", "same_road_pairs", "search_from_points",
           "shortest_from_nodes", "virtual_links", "virtual_rows"]

_NO_PREDECESSOR = -9999  # scipy's marker


@dataclass(frozen=True)
class Reached:
    """The nodes one search reached, in the order it settled them (ascending cost), each with
    its cost, source and predecessor (as in :class:`Search`)."""

    node: np.ndarray
    cost: np.ndarray
    source: np.ndarray
    predecessor: np.ndarray

    def count_within(self, budget: float) -> int:
        """How many of the nodes (the first ones) are reached within ``budget``."""
        return int(np.searchsorted(self.cost, budget, side="right"))


@dataclass(frozen=True)
class Search:
    """Result of one (multi-source) search.

    ``cost[n]`` is the cost from the nearest source to node ``n`` (from ``n`` to it, when
    ``reverse``), inf where not reached within ``cutoff``; ``source[n]`` the index of that source
    (-1 if none); ``predecessor[n]`` the node before ``n`` in the search tree (for a reverse search,
    the next node on the way to the source); a virtual source node is ``n_nodes + i``.

    A search holds these arrays over every node (``per_node``), or only the nodes it reached
    (``reached``, from the compiled search): then the arrays are spread out on first use, and
    :meth:`at` and :attr:`reached` serve callers that need only the reached nodes.
    """

    costs: EdgeCosts  # the edge costs searched with
    reverse: bool
    cutoff: float
    sources: Snapped
    start_cost: np.ndarray  # extra cost per source (turnout time, say)
    per_node: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # cost, source, predecessor
    reached: Reached | None = None

    @cached_property
    def cost(self) -> np.ndarray:
        return self._spread(0, np.inf)

    @cached_property
    def source(self) -> np.ndarray:
        return self._spread(1, -1)

    @cached_property
    def predecessor(self) -> np.ndarray:
        return self._spread(2, _NO_PREDECESSOR)

    def _spread(self, column: int, missing) -> np.ndarray:
        if self.per_node is not None:
            return self.per_node[column]
        assert self.reached is not None
        values = (self.reached.cost, self.reached.source, self.reached.predecessor)[column]
        spread = np.full(self.costs.net.n_nodes, missing, dtype=values.dtype)
        spread[self.reached.node] = values
        return spread

    def at(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cost, source) of ``nodes``; from the reached nodes alone when only they are kept."""
        if self.reached is None or "cost" in self.__dict__:
            return self.cost[nodes], self.source[nodes]
        ids, cost, source = self._reached_by_id
        nodes = np.asarray(nodes)
        if len(ids) == 0:
            return np.full(nodes.shape, np.inf), np.full(nodes.shape, -1)
        at = np.minimum(np.searchsorted(ids, nodes), len(ids) - 1)
        found = ids[at] == nodes
        return np.where(found, cost[at], np.inf), np.where(found, source[at], -1)

    @cached_property
    def _reached_by_id(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.reached is not None
        order = np.argsort(self.reached.node)
        return self.reached.node[order], self.reached.cost[order], self.reached.source[order]

    @cached_property
    def source_links(self) -> dict[int, list[tuple[int, float, int]]]:
        """Per source point on the network: its (node, cost, edge) links to the ends of its road,
        leaving it (arriving at it, when ``reverse``); worked out once, as every path traced
        back from this search ends at one of them."""
        points = np.flatnonzero(self.sources.on_network)
        sides = road_links(self.costs.net, self.costs, self.sources, points,
                           leaving=not self.reverse)
        return {int(p): [(int(node[i]), float(cost[i]), int(edge[i])) for node, cost, edge in sides]
                for i, p in enumerate(points)}


def shortest_from_nodes(net: RoadNetwork, nodes, *, cutoff=None, weight: str = "travel_time_s",
                        reverse: bool = False, blocked=None, cost_scale=None,
                        effects: RoadEffects | None = None,
                        min_only: bool = False) -> np.ndarray:
    """Costs from network nodes to every node (to them, when ``reverse``).

    One source gives a 1-D array; several give one row per source, or with ``min_only`` the cost
    from the nearest source. ``inf`` marks nodes not reached within ``cutoff``.
    """
    nodes = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
    if ((nodes < 0) | (nodes >= net.n_nodes)).any():
        raise ValidationError(f"nodes: node indices must be in 0..{net.n_nodes - 1}")
    costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale,
                       effects=effects)
    result = kernel.search(net, costs.full, nodes, reverse=reverse,
                           limit=check_cutoff("cutoff", cutoff), min_only=min_only)
    return result[0] if result.ndim == 2 and len(nodes) == 1 else result


def search_from_points(net: RoadNetwork, snapped: Snapped, *, cutoff=None,
                       weight: str = "travel_time_s", reverse: bool = False, blocked=None,
                       cost_scale=None, effects: RoadEffects | None = None,
                       costs: EdgeCosts | None = None, start_cost=None,
                       compiled: bool = False) -> Search:
    """One multi-source search from snapped points (to them, when ``reverse``).

    Points not on the network take no part. Each node gets the cost from its nearest point and
    that point's index, so one pass assigns everything to its nearest facility. ``start_cost``
    (one value per point, e.g. a team's turnout time) is added to everything a point reaches.
    ``compiled``: search with :mod:`geo.routing.compiled_search` (for callers that import numba
    anyway), which touches only the nodes within the cutoff and keeps only them
    (:attr:`Search.reached`, in the order reached).
    """
    if costs is None:
        costs = edge_costs(net, weight=weight, blocked=blocked, cost_scale=cost_scale,
                           effects=effects)
    start = per_point_costs("start_cost", start_cost, len(snapped))
    start = np.zeros(len(snapped)) if start is None else start
    limit = check_cutoff("cutoff", cutoff)
    active = np.flatnonzero(snapped.on_network)
    n = net.n_nodes
    if len(active) == 0:
        return Search(costs, reverse, limit, snapped, start,
                      per_node=(np.full(n, np.inf), np.full(n, -1), np.full(n, _NO_PREDECESSOR)))
    if compiled:
        return _compiled_search(net, costs, active, reverse, limit, snapped, start)
    rows = virtual_rows(net, costs, snapped, active, reverse, start)
    cost, predecessor, source = kernel.search(net, costs.full, n + active, reverse=reverse,
                                              virtual_rows=rows, limit=limit, min_only=True,
                                              return_predecessors=True)
    label = np.where(source[:n] >= 0, source[:n] - n, -1)
    return Search(costs, reverse, limit, snapped, start,
                  per_node=(cost[:n], label, predecessor[:n]))


def _compiled_search(net, costs, active, reverse, limit, snapped, start) -> Search:
    from geo.routing.compiled_search import search_within

    links = virtual_links(net, costs, snapped, active, reverse, start)
    reached = Reached(*search_within(net, costs.full, *links, reverse=reverse, limit=limit))
    return Search(costs, reverse, limit, snapped, start, reached=reached)


def road_links(net: RoadNetwork, costs: EdgeCosts, snapped: Snapped, points, *, leaving: bool):
    """Each point's two links to the ends of its road, as (node, cost, edge) arrays per side.

    A point at fraction f of geometry A→B, leaving: to B along the forward edge over f..1, to A
    along the backward edge over 0..f. Arriving: from A along the forward edge over 0..f, from B
    along the backward edge over f..1. A missing edge, or one blocked on that part, costs inf.
    """
    points = np.atleast_1d(points)
    geom = snapped.geom[points]
    forward, backward = net.geom_edges[geom, 0], net.geom_edges[geom, 1]
    a, b = net.edge_tail[forward], net.edge_head[forward]
    # leaving towards B on the forward edge, towards A on the backward one; arriving from A on
    # the forward edge, from B on the backward one
    a_edge, b_edge = (backward, forward) if leaving else (forward, backward)
    return ((a, costs.from_point(a_edge, snapped, points, towards_end=False), a_edge),
            (b, costs.from_point(b_edge, snapped, points, towards_end=True), b_edge))


def virtual_rows(net: RoadNetwork, costs: EdgeCosts, snapped: Snapped, points: np.ndarray,
                 reverse: bool, start: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """One virtual row per snapped point (numbered ``n_nodes + point index``): its links to the
    ends of its road. In a reverse search the graph is reversed, so a row holds the links
    *arriving* at the point. Points off the network get an empty row."""
    rows: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0, dtype=np.int32), np.empty(0))]
    rows *= len(snapped)
    nodes, link_costs, owner = virtual_links(net, costs, snapped, points, reverse, start)
    first = np.searchsorted(owner, points, side="left")
    last = np.searchsorted(owner, points, side="right")
    for i, lo, hi in zip(points.tolist(), first.tolist(), last.tolist()):
        rows[i] = (nodes[lo:hi], link_costs[lo:hi])
    return rows


def virtual_links(net: RoadNetwork, costs: EdgeCosts, snapped: Snapped, points: np.ndarray,
                  reverse: bool, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The usable links of ``points`` (ascending) to the ends of their roads, start cost
    included, as flat arrays (node, cost, point), a point's links together (the rows of
    :func:`virtual_rows`)."""
    side_a, side_b = road_links(net, costs, snapped, points, leaving=not reverse)
    nodes = np.stack([side_a[0], side_b[0]], axis=1).ravel()
    link_costs = (np.stack([side_a[1], side_b[1]], axis=1) + start[points, None]).ravel()
    owner = np.repeat(points, 2)
    usable = np.isfinite(link_costs)
    return nodes[usable], link_costs[usable], owner[usable]


def cost_to_points(net: RoadNetwork, search: Search,
                   targets: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """For each target point: the cost of reaching it in ``search`` (of reaching the sources
    from it, when reversed) and the index of the source involved; (inf, -1) when not reached
    within the search's cutoff. A target on the same road as a source is also reached along that
    road directly."""
    cost = np.full(len(targets), np.inf)
    label = np.full(len(targets), -1)
    points = np.flatnonzero(targets.on_network)
    if len(points) == 0:
        return cost, label
    side_a, side_b = road_links(net, search.costs, targets, points, leaving=search.reverse)
    cost_a, source_a = search.at(side_a[0])
    cost_b, source_b = search.at(side_b[0])
    via_a, via_b = cost_a + side_a[1], cost_b + side_b[1]
    cost[points] = np.minimum(via_a, via_b)
    label[points] = np.where(via_a <= via_b, source_a, source_b)
    s, t, direct, _ = same_road_pairs(net, search, targets, points)
    if len(t):
        # the cheapest pair per target (the lowest source index among equals)
        order = np.lexsort((s, direct, t))
        first = order[np.r_[True, t[order][1:] != t[order][:-1]]]
        better = first[direct[first] < cost[t[first]]]
        cost[t[better]], label[t[better]] = direct[better], s[better]
    unreached = ~(cost <= search.cutoff)
    cost[unreached], label[unreached] = np.inf, -1
    return cost, label


def same_road_pairs(net: RoadNetwork, search: Search, targets: Snapped, points):
    """(source, target, cost, edge) arrays for every source of ``search`` on the same road as
    one of the target ``points``, travelling along that road only (start cost included)."""
    sources = np.flatnonzero(search.sources.on_network)
    s, t, cost, edge = same_road(net, search.costs, search.sources, sources, targets, points,
                                 reverse=search.reverse)
    return s, t, cost + search.start_cost[s], edge


def same_road(net: RoadNetwork, costs: EdgeCosts, sources: Snapped, source_points,
              targets: Snapped, target_points, *, reverse: bool = False):
    """Every (source, target) pair of points on the same road geometry, as arrays (source index,
    target index, cost, edge) of travelling along that road only, from the source to the target
    (from the target to the source when ``reverse``); cost inf and edge -1 where the road cannot
    be travelled that way. A join on the geometry id: no loop over points or pairs."""
    source_points = np.asarray(source_points, dtype=np.int64).reshape(-1)
    target_points = np.asarray(target_points, dtype=np.int64).reshape(-1)
    target_geom = targets.geom[target_points]
    order = np.argsort(target_geom, kind="stable")
    sorted_geom = target_geom[order]
    source_geom = sources.geom[source_points]
    lo = np.searchsorted(sorted_geom, source_geom, side="left")
    count = np.searchsorted(sorted_geom, source_geom, side="right") - lo
    pair_source = np.repeat(np.arange(len(source_points)), count)
    step = np.arange(len(pair_source)) - np.repeat(np.cumsum(count) - count, count)
    s = source_points[pair_source]
    t = target_points[order[np.repeat(lo, count) + step]]
    f_from, f_to = sources.fraction[s], targets.fraction[t]
    if reverse:
        f_from, f_to = f_to, f_from
    forward, backward = net.geom_edges[sources.geom[s]].T
    ahead = f_to >= f_from
    edge = np.where(ahead, forward, backward)  # -1 where the road is one-way the other way
    cost = costs.span(edge, np.minimum(f_from, f_to), np.maximum(f_from, f_to))
    return s, t, cost, edge
