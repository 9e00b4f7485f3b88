"""The cheapest path between two snapped points: a bounded bidirectional search.

A route needs one path, not the cost of every node, so instead of one search over the whole
network it runs two small ones through the kernel: forward from the origin with radius ``ahead``
and backward (over the reverse graph) from the destination with radius ``behind``. With ``df``
and ``db`` the costs they find, the cheapest path crossing from one ball into the other by a
single edge ``v → w`` costs

    μ = min over edges v → w of df[v] + c(v → w) + db[w]

(the points' own links to the ends of their roads count as edges, leaving the origin at cost 0
and arriving at the destination). Once μ ≤ ahead + behind it is the cheapest path of all: on a
path costing d ≤ ahead + behind, the last node within ``ahead`` of the origin (the origin
itself, at worst) has its exact cost in ``df``; after the next edge less than d - ahead ≤ behind
is left, so that edge's head is in the backward ball with its exact cost. Stopping at the first
meeting instead can give a worse route. Otherwise the ball with fewer nodes grows so that the
radii add up to μ (the next round then ends), or both grow by :data:`GROWTH` while the balls do
not meet. A ball with no way out (an origin or destination cut off by barriers) holds every node
it can reach, with exact costs, so μ is then exact too, and inf means no path.

Only the edges of the forward ball's rim are scanned (its nodes with an edge reaching past
``ahead``), never every edge of the network.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from geo.network.model import RoadNetwork
from geo.routing import kernel
from geo.routing.costs import EdgeCosts, edge_costs
from geo.routing.search import Search, road_links, same_road, search_from_points
from geo.routing.snapping import Snapped

# The first radius guesses half the cost of the path from the straight-line distance at the
# network's typical speed: the speed (metres per unit of cost) that this share of the
# network's nodes beat, seen from its middle. A wrong guess costs another round, never a wrong
# answer: too small a radius grows, and too large a one only searches more.
SPEED_QUANTILE = 10
MIN_RADIUS = 30.0  # seconds (or metres): the first radius for points close together
GROWTH = 1.5  # the radii's factor while the balls do not meet

_speeds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per network and weight
_max_out_costs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per network


@dataclass(frozen=True, eq=False)
class Meeting:
    """Where the cheapest path between two points crosses from the forward search into the
    backward one: it runs from the origin to node ``tail`` as in ``forward`` (or straight off
    the origin's road when ``tail`` is -1), then to node ``head``, then to the destination as in
    ``backward`` (straight onto the destination's road when ``head`` is -1). ``cost`` is inf
    when no path runs through the network's nodes; ``direct`` is the cost along the road the
    two points share (inf if none) with the edge taken, ``direct_edge``."""

    cost: float
    tail: int
    head: int
    forward: Search
    backward: Search
    direct: float
    direct_edge: int


def meet(net: RoadNetwork, costs: EdgeCosts, start: Snapped, end: Snapped) -> Meeting:
    """The cheapest path from ``start``'s first point to ``end``'s first point over ``costs``
    (both points on the network)."""
    _, _, along, along_edge = same_road(net, costs, start, [0], end, [0])
    direct = float(along[0]) if len(along) else np.inf
    direct_edge = int(along_edge[0]) if len(along) else -1
    leaving = road_links(net, costs, start, 0, leaving=True)
    arriving = road_links(net, costs, end, 0, leaving=False)
    ahead = behind = _first_radius(net, costs, start, end)
    forward = search_from_points(net, start, costs=costs, cutoff=ahead)
    backward = search_from_points(net, end, costs=costs, reverse=True, cutoff=behind)
    while True:
        cost, tail, head = _crossing(net, costs, forward, backward, ahead, leaving, arriving)
        best = min(cost, direct)
        if best <= ahead + behind or _exhausted(net, costs, forward, backward, leaving,
                                                arriving):
            return Meeting(cost, tail, head, forward, backward, direct, direct_edge)
        if np.isfinite(best):
            # Grow the ball with fewer nodes just enough: the next round then ends.
            if np.isfinite(forward.cost).sum() <= np.isfinite(backward.cost).sum():
                ahead = best - behind
                forward = search_from_points(net, start, costs=costs, cutoff=ahead)
            else:
                behind = best - ahead
                backward = search_from_points(net, end, costs=costs, reverse=True,
                                              cutoff=behind)
        else:
            ahead, behind = ahead * GROWTH, behind * GROWTH
            forward = search_from_points(net, start, costs=costs, cutoff=ahead)
            backward = search_from_points(net, end, costs=costs, reverse=True, cutoff=behind)


def _crossing(net: RoadNetwork, costs: EdgeCosts, forward: Search, backward: Search, ahead,
              leaving, arriving) -> tuple[float, int, int]:
    """(μ, tail, head): the cheapest path crossing from the forward ball into the backward one
    by one edge, or by the origin's or the destination's links.

    Only the edges of the forward ball's rim count: nodes with an edge reaching past ``ahead``.
    The crossing edge of the cheapest path is one of them (its tail is within ``ahead`` of the
    origin, its head is not), and the rim is a thin shell of the ball.
    """
    df, db = forward.cost, backward.cost
    rim = np.flatnonzero((df <= ahead) & (df > ahead - _max_out_cost(net, costs.full)))
    tails, edges = _rows(net.fwd_indptr, net.fwd_edges, rim)
    through = df[tails] + costs.full[edges] + db[net.edge_head[edges]]
    # Candidates: (cost, tail, head); the points' links first, so that on a tie the path with
    # fewer pieces is taken.
    candidates = [(float(link[0] + db[node[0]]), -1, int(node[0])) for node, link, _ in leaving]
    candidates += [(float(df[node[0]] + link[0]), int(node[0]), -1) for node, link, _ in arriving]
    if len(through):
        i = int(np.argmin(through))
        candidates.append((float(through[i]), int(tails[i]), int(net.edge_head[edges[i]])))
    return min(candidates, key=lambda c: c[0])


def _max_out_cost(net: RoadNetwork, full: np.ndarray) -> np.ndarray:
    """The largest finite cost of an edge leaving each node (-inf for none); kept for the
    network's last read-only costs (the ones without barriers, on most queries)."""
    kept = _max_out_costs.get(net)
    if kept is not None and kept[0] is full:
        return kept[1]
    indptr = np.asarray(net.fwd_indptr)
    per_entry = full[net.fwd_edges]
    per_entry = np.where(np.isfinite(per_entry), per_entry, -np.inf)
    result = np.full(net.n_nodes, -np.inf)
    rows = np.flatnonzero(indptr[1:] > indptr[:-1])
    if len(rows):
        result[rows] = np.maximum.reduceat(per_entry, indptr[rows])
    if not full.flags.writeable:
        _max_out_costs[net] = (full, result)
    return result


def _exhausted(net: RoadNetwork, costs: EdgeCosts, forward: Search, backward: Search,
               leaving, arriving) -> bool:
    """Whether the smaller ball has no way out (a usable link or edge to a node it has not
    reached): then it holds every node its point can reach (or be reached from), with exact
    costs."""
    df, db = forward.cost, backward.cost
    in_forward, in_backward = np.flatnonzero(np.isfinite(df)), np.flatnonzero(np.isfinite(db))
    if len(in_forward) <= len(in_backward):
        _, edges = _rows(net.fwd_indptr, net.fwd_edges, in_forward)
        ball, links, beyond = df, leaving, net.edge_head[edges]
    else:
        _, edges = _rows(net.rev_indptr, net.rev_edges, in_backward)
        ball, links, beyond = db, arriving, net.edge_tail[edges]
    if (np.isinf(ball[beyond]) & np.isfinite(costs.full[edges])).any():
        return False
    return not any(np.isfinite(link[0]) and np.isinf(ball[node[0]]) for node, link, _ in links)


def _rows(indptr: np.ndarray, entries: np.ndarray, nodes: np.ndarray):
    """(node, entry) for every CSR entry in the rows of ``nodes``."""
    first = indptr[nodes]
    count = indptr[nodes + 1] - first
    shift = np.repeat(first - (np.cumsum(count) - count), count)
    return np.repeat(nodes, count), entries[np.arange(count.sum()) + shift]


def _first_radius(net: RoadNetwork, costs: EdgeCosts, start: Snapped, end: Snapped) -> float:
    straight = float(np.hypot(*(start.snapped_xy[0] - end.snapped_xy[0])))
    return max(MIN_RADIUS, straight / _typical_speed(net, costs.weight) / 2)


def _typical_speed(net: RoadNetwork, weight: str) -> float:
    """Straight-line metres per unit of ``weight`` along the cheapest paths from the node
    nearest the network's middle (without barriers), at :data:`SPEED_QUANTILE`; one search per
    network and weight, kept."""
    per_net = _speeds.setdefault(net, {})
    if weight not in per_net:
        xy = np.asarray(net.node_xy)
        middle = int(np.argmin(np.hypot(*(xy - xy.mean(axis=0)).T)))
        cost = kernel.search(net, edge_costs(net, weight=weight).full, [middle], reverse=False)[0]
        far = np.isfinite(cost) & (cost > 0)
        speed = np.hypot(*(xy[far] - xy[middle]).T) / cost[far]
        per_net[weight] = float(np.percentile(speed, SPEED_QUANTILE)) if far.any() else 1.0
    return per_net[weight]
