"""Rank candidates (teams, depots, shelters) by network travel time to or from one point.

The one pipeline behind every "nearest ..." answer: snap the candidates, search once from the
point (over the reverse graph when the candidates travel *to* it), read each candidate's cost,
order them, and say why the others cannot be reached. With ``k`` the search is bounded and the
bound grown until the k best are certain: a candidate not reached within bound L costs more than
L + the smallest start cost among such candidates, so once the k-th best known total is below
that, no unseen candidate can beat it. Never one search per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.core.vocabulary import CUT_OFF, ISLAND, OFF_NETWORK
from geo.network.model import RoadNetwork
from geo.routing.costs import EdgeCosts
from geo.routing.paths import Route, routes_from_pieces, traces
from geo.routing.search import Search, cost_to_points, search_from_points
from geo.routing.snapping import DEFAULT_MAX_SNAP_M, FAR, Snapped, snap_points

# The first bound guesses the k-th candidate's travel time from its straight-line distance at a
# typical speed of the mode, with this margin; a wrong guess costs another, larger search, never
# a wrong answer.
GUESS_SPEED_MPS = {"drive": 50 / 3.6, "walk": 5 / 3.6}
GUESS_MARGIN = 2.5
MIN_BOUND_S = 60.0


@dataclass(frozen=True, eq=False)
class Ranked:
    """Candidates ranked by ``total_s`` = ``start_s`` (turnout, say) + ``travel_s``.

    ``order`` holds the reached candidates' indices, best first (at most k); ``reasons[i]`` is
    "" for a reachable candidate, else why it cannot be reached (off the network, on a road cut
    off from it, or cut off by barriers)."""

    at: Snapped
    candidates: Snapped
    search: Search
    inbound: bool
    travel_s: np.ndarray
    total_s: np.ndarray
    order: np.ndarray
    reasons: np.ndarray

    def route(self, net: RoadNetwork, i: int) -> Route:
        """Candidate ``i``'s route (to the point when inbound, from it otherwise)."""
        return self.routes(net, [i])[0]

    def routes(self, net: RoadNetwork, indices) -> list[Route]:
        """The routes of the candidates at ``indices``, built together."""
        paths = traces(net, self.search, self.candidates, indices)
        snaps = [float(self.candidates.snap_m[i]) for i in indices]
        return routes_from_pieces(net, paths, time_s=self.search.costs,
                                  snap_m=[(s, 0.0) if self.inbound else (0.0, s) for s in snaps])


def rank_by_cost(net: RoadNetwork, at: Snapped, lon: np.ndarray, lat: np.ndarray, *,
                 costs: EdgeCosts, inbound: bool, start_s: np.ndarray | None = None,
                 k: int | None = None, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                 route_islands: bool = False) -> Ranked:
    """Rank the candidates at (``lon``, ``lat``) by travel to ``at`` (``inbound``) or from it,
    over the edge ``costs``; ``k`` None ranks every candidate (one unbounded search).
    ``route_islands`` as in :func:`~geo.routing.snapping.snap_points`."""
    candidates = snap_points(net, lon, lat, max_snap_m=max_snap_m, route_islands=route_islands)
    start = np.zeros(len(candidates)) if start_s is None else np.asarray(start_s, dtype=float)
    search, travel = _search_until_certain(net, at, candidates, start, costs, inbound, k)
    total = start + travel
    ranked = np.argsort(total, kind="stable")
    order = ranked[np.isfinite(total[ranked])]
    if k is not None:
        order = order[:k]
    cut_off = _cut_off(net, at, candidates, costs, inbound, search, travel)
    return Ranked(at, candidates, search, inbound, travel, total, order,
                  unreachable_reasons(candidates, cut_off))


def unreachable_reasons(snapped: Snapped, cut_off: np.ndarray) -> np.ndarray:
    """Per point: "" when reachable, else the reason from the shared vocabulary."""
    return np.where(snapped.status == FAR, OFF_NETWORK,
                    np.where(snapped.status == ISLAND, ISLAND,
                             np.where(cut_off, CUT_OFF, ""))).astype(object)


def _search_until_certain(net: RoadNetwork, at, candidates, start, costs, inbound, k):
    bound = np.inf if k is None else _first_bound(net, at, candidates, start, k)
    while True:
        search = search_from_points(net, at, costs=costs, reverse=inbound, cutoff=bound)
        travel, _ = cost_to_points(net, search, candidates)
        known = np.isfinite(travel)
        unseen = candidates.on_network & ~known
        if bound == np.inf or not unseen.any():
            return search, travel
        total = np.sort(start[known] + travel[known])
        if len(total) >= k and total[k - 1] <= bound + start[unseen].min():
            return search, travel
        # Past every finite edge cost sum the bound is useless: finish with an unbounded search.
        longest = np.where(np.isfinite(costs.full), costs.full, 0).sum()
        bound = np.inf if bound * 4 > longest else bound * 4


def _first_bound(net: RoadNetwork, at: Snapped, candidates: Snapped, start: np.ndarray,
                 k: int) -> float:
    """A travel-time bound likely to make the k best candidates certain (straight-line guess).

    The k-th best total is certain once it is within the bound plus the smallest start cost of
    the candidates not reached, so the spread of the start costs (turnouts of 1 to 5 minutes)
    is added: without it a first search was seldom enough."""
    on = candidates.on_network
    if not on.any():
        return MIN_BOUND_S
    straight = np.hypot(*(candidates.snapped_xy[on] - at.snapped_xy[0]).T)
    kth = np.partition(straight, min(k, len(straight)) - 1)[min(k, len(straight)) - 1]
    speed_mps = GUESS_SPEED_MPS.get(net.mode, GUESS_SPEED_MPS["drive"])
    spread = float(start[on].max() - start[on].min())
    return max(MIN_BOUND_S, GUESS_MARGIN * kth / speed_mps) + spread


def _cut_off(net: RoadNetwork, at, candidates, costs, inbound, search, travel) -> np.ndarray:
    """Candidates on the network that cannot be reached at all (only possible with barriers:
    the network is one strongly connected component)."""
    if not costs.closes_any:
        return np.zeros(len(candidates), dtype=bool)
    if search.cutoff != np.inf:
        search = search_from_points(net, at, costs=costs, reverse=inbound)
        travel, _ = cost_to_points(net, search, candidates)
    return candidates.on_network & np.isinf(travel)
