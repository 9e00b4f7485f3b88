"""Compiled loops (numba, cached on disk) turning a search into the timed straight pieces of road
that :mod:`geo.analysis.area_grid` draws: the stretch of every edge at a reached node as far as
the budget left there goes, a road reached from both ends cut where the two ways meet, and each
stretch split at the road's points with the cost of reaching each end.

Positions are keys on the cost profile's line (``2·geometry + fraction``; see
:mod:`geo.routing.costs`). Every loop takes the profile as one tuple ``costs`` (see
:attr:`geo.routing.costs.EdgeCosts.kernel_arrays`): ``keys`` and ``levels`` (the cumulative cost
at each, effects included), ``road_first`` (where each road's keys begin, so that every lookup
searches one road's few points, not the whole line), the blocked stretches as sorted, merged key
intervals, and per edge its road, whole cost (inf when closed or blocked anywhere), factor and
closure (the last two empty when none are given). One service area looks at a few hundred edges
(a large network's, a few hundred thousand); numpy calls over arrays that small cost more in
dispatch than in arithmetic, so the whole chain is one compiled pass.
"""

from __future__ import annotations

import numba
import numpy as np

# pragma: no cover throughout: compiled code is invisible to coverage (tested through
# geo.analysis.service_areas against networkx on the unsimplified graph).


@numba.njit(cache=True, nogil=True)
def _search(values: np.ndarray, value: float, lo: int, hi: int,
            right: bool) -> int:  # pragma: no cover
    """The first index in ``lo..hi`` whose value is above ``value`` (``right``) or not below it;
    ``hi`` when none is (``np.searchsorted`` over a slice)."""
    while lo < hi:
        middle = (lo + hi) >> 1
        if values[middle] < value or (right and values[middle] == value):
            lo = middle + 1
        else:
            hi = middle
    return lo


@numba.njit(cache=True, nogil=True)
def _level(costs, geom: int, fraction: float) -> float:  # pragma: no cover
    """The cumulative cost at ``fraction`` of road ``geom`` (as ``np.interp`` on the line)."""
    keys, levels, road_first = costs[0], costs[1], costs[2]
    lo, hi = road_first[geom], road_first[geom + 1]
    key = 2.0 * geom + fraction
    above = _search(keys, key, lo, hi, True)
    if above <= lo:
        return levels[lo]
    if above >= hi:
        return levels[hi - 1]
    return _at(keys, levels, key, above)


@numba.njit(cache=True, nogil=True)
def _fraction_at(costs, geom: int, level: float, upward: bool) -> float:  # pragma: no cover
    """Where along road ``geom`` the cumulative cost reaches ``level``: the last such point
    (the first, ``upward=False``), clipped to the road's ends."""
    if level == np.inf:
        return 1.0
    if level == -np.inf:
        return 0.0
    keys, levels, road_first = costs[0], costs[1], costs[2]
    lo, hi = road_first[geom], road_first[geom + 1]
    i = min(max(_search(levels, level, lo, hi, upward), lo + 1), hi - 1)
    c0, c1 = levels[i - 1], levels[i]
    t = (level - c0) / (c1 - c0) if c1 > c0 else (1.0 if upward else 0.0)
    key = keys[i - 1] + min(max(t, 0.0), 1.0) * (keys[i] - keys[i - 1])
    return min(max(key - 2.0 * geom, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def _stop_at_blocks(block_start: np.ndarray, block_end: np.ndarray, key: float, reached: float,
                    towards_end: bool) -> float:  # pragma: no cover
    """``reached``, or the edge of the first blocked stretch between ``key`` and it (``key``
    itself when it lies on a block)."""
    n = len(block_start)
    if n == 0:
        return reached
    ahead = min(int(np.searchsorted(block_end, key, side="left")), n - 1)
    behind = max(int(np.searchsorted(block_start, key, side="right")) - 1, 0)
    if ((block_start[ahead] <= key <= block_end[ahead])
            or (block_start[behind] <= key <= block_end[behind])):
        return key
    if towards_end:
        return min(reached, block_start[ahead]) if block_start[ahead] >= key else reached
    return max(reached, block_end[behind]) if block_end[behind] <= key else reached


@numba.njit(cache=True, nogil=True)
def reach(costs, edge: int, start: float, budget: float,
          towards_end: bool) -> float:  # pragma: no cover
    """The fraction of ``edge``'s road reached from fraction ``start`` with ``budget``, moving
    towards the road's end (or its start), stopping before any blocked stretch; ``start`` itself
    where the edge is missing (-1) or closed, or the budget negative."""
    block_start, block_end, edge_geom, full, scale, closed = costs[3:]
    if edge < 0:
        return start
    if budget >= full[edge]:  # all of it (full is inf where anything blocks it)
        return 1.0 if towards_end else 0.0
    if len(scale):
        budget = budget / scale[edge]
    if not budget >= 0.0 or (len(closed) and closed[edge]):
        return start
    geom = edge_geom[edge]
    level = _level(costs, geom, start)
    far = _fraction_at(costs, geom, level + budget if towards_end else level - budget,
                       towards_end)
    road = 2.0 * geom
    return min(max(_stop_at_blocks(block_start, block_end, road + start, road + far,
                                   towards_end) - road, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def reached_stretches(costs, nodes: np.ndarray, nodes_cost: np.ndarray,
                      nodes_source: np.ndarray, budget: float, indptr: np.ndarray,
                      edge_list: np.ndarray, edge_reversed: np.ndarray, reverse: bool,
                      point_geom: np.ndarray, point_fraction: np.ndarray,
                      point_cost: np.ndarray, geom_edges: np.ndarray):  # pragma: no cover
    """The stretches reached within ``budget``, as (geom, origin, far, origin_cost, edge,
    facility) arrays: of every edge leaving (entering, in a reverse search) each of ``nodes``
    (reached at ``nodes_cost`` from source ``nodes_source``), from the node as far as the budget
    left there goes; then of each source point's own road (``point_geom`` -1 off the network),
    both ways from the point. Going out, the road's forward edge (``geom_edges[g, 0]``) covers
    the part towards the geometry's end and its backward edge the part towards its start; coming
    in, the other way round."""
    edge_geom = costs[5]
    total = 2 * len(point_geom)
    for node in nodes:
        total += indptr[node + 1] - indptr[node]
    geom = np.empty(total, dtype=np.int64)
    origin, far, origin_cost = np.empty(total), np.empty(total), np.empty(total)
    edges = np.empty(total, dtype=np.int64)
    facility = np.empty(total, dtype=np.int64)
    at = 0
    for i in range(len(nodes)):
        node = nodes[i]
        left = budget - nodes_cost[i]
        for slot in range(indptr[node], indptr[node + 1]):
            edge = edge_list[slot]
            along_geometry = (not edge_reversed[edge]) != reverse
            start = 0.0 if along_geometry else 1.0
            geom[at], origin[at], edges[at] = edge_geom[edge], start, edge
            far[at] = reach(costs, edge, start, left, along_geometry)
            origin_cost[at], facility[at] = nodes_cost[i], nodes_source[i]
            at += 1
    for point in range(len(point_geom)):
        g, left = point_geom[point], budget - point_cost[point]
        if g < 0 or not left >= 0.0:
            continue
        forward, backward = geom_edges[g, 0], geom_edges[g, 1]
        for towards_end in (True, False):
            edge = (forward if towards_end != reverse else backward)
            geom[at], origin[at], edges[at] = g, point_fraction[point], edge
            far[at] = reach(costs, edge, point_fraction[point], left, towards_end)
            origin_cost[at], facility[at] = point_cost[point], point
            at += 1
    return geom[:at], origin[:at], far[:at], origin_cost[:at], edges[:at], facility[:at]


@numba.njit(cache=True, nogil=True)
def _factor(costs, edge: int) -> float:  # pragma: no cover
    scale = costs[7]
    return scale[edge] if len(scale) and edge >= 0 else 1.0


@numba.njit(cache=True, nogil=True)
def earliest_way(costs, geom: np.ndarray, origin: np.ndarray, far: np.ndarray,
                 origin_cost: np.ndarray, edge: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``far`` with each road reached from both of its ends drawn once: each end's stretch only
    up to the point where the other end's gets there first (the costs meet once: one rises along
    the road as the other falls), so every part of the road keeps the earlier of its two times.
    Cut only where the two stretches overlap (a block or the budget may stop either short)."""
    far = far.copy()
    # The stretches grouped by road (sorted: per-road tables would cost the whole network's
    # size on every call, where a large network's walking area reaches a few thousand roads).
    order = np.argsort(geom, kind="mergesort")
    i = 0
    while i < len(order):
        g = geom[order[i]]
        start = end = -1  # the road's stretch entered at 0, and at 1 (the last, if several)
        while i < len(order) and geom[order[i]] == g:
            s = order[i]
            if origin[s] == 0.0:
                start = s
            elif origin[s] == 1.0:
                end = s
            i += 1
        if start < 0 or end < 0 or not far[end] < far[start]:
            continue
        f0, f1 = _factor(costs, edge[start]), _factor(costs, edge[end])
        # origin_cost[start] + f0·(L − L0) = origin_cost[end] + f1·(L1 − L)
        meet_level = ((origin_cost[end] - origin_cost[start] + f0 * _level(costs, g, 0.0)
                       + f1 * _level(costs, g, 1.0)) / (f0 + f1))
        if not np.isfinite(meet_level):
            continue
        meet = min(max(_fraction_at(costs, g, meet_level, True), far[end]), far[start])
        far[start], far[end] = meet, meet
    return far


@numba.njit(cache=True, nogil=True)
def _at(keys: np.ndarray, values: np.ndarray, key: float, above: int) -> float:  # pragma: no cover
    """``values`` interpolated at ``key``, where ``keys[above]`` is the first key above it."""
    if above <= 0:
        return values[0]
    if above >= len(keys):
        return values[len(keys) - 1]
    k0, k1 = keys[above - 1], keys[above]
    share = (key - k0) / (k1 - k0) if k1 > k0 else 0.0
    return values[above - 1] + share * (values[above] - values[above - 1])


@numba.njit(cache=True, nogil=True)
def stretch_pieces(costs, xs: np.ndarray, ys: np.ndarray, geom: np.ndarray, origin: np.ndarray,
                   far: np.ndarray, origin_cost: np.ndarray,
                   edge: np.ndarray):  # pragma: no cover
    """The straight pieces of the stretches (ax, ay, bx, by, a_cost, b_cost): one per pair of
    consecutive points, the stretch's ends interpolated on the key line and the road's own
    points between them (``xs``, ``ys`` at each key) taken as they are, each reached at
    ``origin_cost + factor·|level − origin level|``."""
    keys, levels, road_first = costs[0], costs[1], costs[2]
    n = len(geom)
    lo_key, hi_key = np.empty(n), np.empty(n)
    first, last = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    for s in range(n):
        g = geom[s]
        lo_key[s] = 2.0 * g + min(origin[s], far[s])
        hi_key[s] = 2.0 * g + max(origin[s], far[s])
        # The road's points strictly between the stretch's ends.
        first[s] = _search(keys, lo_key[s], road_first[g], road_first[g + 1], True)
        last[s] = _search(keys, hi_key[s], road_first[g], road_first[g + 1], False)
        offsets[s + 1] = offsets[s] + max(last[s] - first[s], 0) + 1
    size = offsets[n]
    ax, ay, bx, by = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    a_cost, b_cost = np.empty(size), np.empty(size)
    for s in range(n):
        factor = _factor(costs, edge[s])
        origin_level = _level(costs, geom[s], origin[s])
        at, stop = offsets[s], offsets[s + 1]
        x = _at(keys, xs, lo_key[s], first[s])
        y = _at(keys, ys, lo_key[s], first[s])
        level = _at(keys, levels, lo_key[s], first[s])
        cost = origin_cost[s] + factor * abs(level - origin_level)
        for p in range(at, stop):
            point = first[s] + (p - at)
            if p == stop - 1:  # the stretch's end
                nx = _at(keys, xs, hi_key[s], last[s])
                ny = _at(keys, ys, hi_key[s], last[s])
                level = _at(keys, levels, hi_key[s], last[s])
            else:
                nx, ny, level = xs[point], ys[point], levels[point]
            next_cost = origin_cost[s] + factor * abs(level - origin_level)
            ax[p], ay[p], bx[p], by[p], a_cost[p], b_cost[p] = x, y, nx, ny, cost, next_cost
            x, y, cost = nx, ny, next_cost
    return ax, ay, bx, by, a_cost, b_cost
