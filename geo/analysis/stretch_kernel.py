"""Compiled loops (numba, cached on disk) turning a search into the timed straight pieces of road
that :mod:`geo.analysis.area_grid` draws: the stretch of every edge at a reached node as far as
the budget left there goes, a road reached from both ends cut where the two ways meet, and each
stretch split at the road's points with the cost of reaching each end.

Positions are keys on the cost profile's line (``2·geometry + fraction``; see
:mod:`geo.routing.costs`): ``levels`` is the cumulative cost at each of ``keys`` (effects
included) and the blocked stretches are the sorted, merged key intervals ``block_start`` ..
``block_end``. One service area looks at a few hundred edges; numpy calls over arrays that small
cost more in dispatch than in arithmetic, so the whole chain is one compiled pass.
"""

from __future__ import annotations

import numba
import numpy as np

# pragma: no cover throughout: compiled code is invisible to coverage (tested through
# geo.analysis.service_areas against networkx on the unsimplified graph).


@numba.njit(cache=True, nogil=True)
def _interp(keys: np.ndarray, values: np.ndarray, key: float) -> float:  # pragma: no cover
    """``values`` linearly interpolated at ``key`` (clamped at both ends), as ``np.interp``."""
    n = len(keys)
    if key <= keys[0]:
        return values[0]
    if key >= keys[n - 1]:
        return values[n - 1]
    above = np.searchsorted(keys, key, side="right")
    k0, k1 = keys[above - 1], keys[above]
    share = (key - k0) / (k1 - k0) if k1 > k0 else 0.0
    return values[above - 1] + share * (values[above] - values[above - 1])


@numba.njit(cache=True, nogil=True)
def _key_at(keys: np.ndarray, levels: np.ndarray, level: float,
            upward: bool) -> float:  # pragma: no cover
    """Inverse of the cumulative cost: the last key at ``level`` (the first, ``upward=False``)."""
    if level == np.inf:
        return np.inf
    if level == -np.inf:
        return -np.inf
    n = len(keys)
    found = (np.searchsorted(levels, level, side="right") if upward
             else np.searchsorted(levels, level, side="left"))
    i = min(max(found, 1), n - 1)
    c0, c1 = levels[i - 1], levels[i]
    t = (level - c0) / (c1 - c0) if c1 > c0 else (1.0 if upward else 0.0)
    return keys[i - 1] + min(max(t, 0.0), 1.0) * (keys[i] - keys[i - 1])


@numba.njit(cache=True, nogil=True)
def _stop_at_blocks(block_start: np.ndarray, block_end: np.ndarray, key: float, reached: float,
                    towards_end: bool) -> float:  # pragma: no cover
    """``reached``, or the edge of the first blocked stretch between ``key`` and it (``key``
    itself when it lies on a block)."""
    n = len(block_start)
    if n == 0:
        return reached
    ahead = min(np.searchsorted(block_end, key, side="left"), n - 1)
    behind = max(np.searchsorted(block_start, key, side="right") - 1, 0)
    if ((block_start[ahead] <= key <= block_end[ahead])
            or (block_start[behind] <= key <= block_end[behind])):
        return key
    if towards_end:
        return min(reached, block_start[ahead]) if block_start[ahead] >= key else reached
    return max(reached, block_end[behind]) if block_end[behind] <= key else reached


@numba.njit(cache=True, nogil=True)
def reach(keys: np.ndarray, levels: np.ndarray, block_start: np.ndarray, block_end: np.ndarray,
          scale: np.ndarray, closed: np.ndarray, edge_geom: np.ndarray, edge: int, start: float,
          budget: float, towards_end: bool) -> float:  # pragma: no cover
    """The fraction of ``edge``'s road reached from fraction ``start`` with ``budget``, moving
    towards the road's end (or its start), stopping before any blocked stretch; ``start`` itself
    where the edge is missing (-1) or closed, or the budget negative. ``scale`` and ``closed``
    are per edge, or empty when none are given."""
    if edge < 0:
        return start
    if len(scale):
        budget = budget / scale[edge]
    if not budget >= 0.0 or (len(closed) and closed[edge]):
        return start
    road = 2.0 * edge_geom[edge]
    key = road + start
    level = _interp(keys, levels, key)
    if towards_end:
        reached = min(_key_at(keys, levels, level + budget, True), road + 1.0)
    else:
        reached = max(_key_at(keys, levels, level - budget, False), road)
    reached = _stop_at_blocks(block_start, block_end, key, reached, towards_end)
    return min(max(reached - road, 0.0), 1.0)


@numba.njit(cache=True, nogil=True)
def reached_stretches(nodes: np.ndarray, node_cost: np.ndarray, node_source: np.ndarray,
                      budget: float, indptr: np.ndarray, edge_list: np.ndarray,
                      edge_reversed: np.ndarray, reverse: bool, point_geom: np.ndarray,
                      point_fraction: np.ndarray, point_cost: np.ndarray,
                      geom_edges: np.ndarray, keys: np.ndarray, levels: np.ndarray,
                      block_start: np.ndarray, block_end: np.ndarray, scale: np.ndarray,
                      closed: np.ndarray, edge_geom: np.ndarray):  # pragma: no cover
    """The stretches reached within ``budget``, as (geom, origin, far, origin_cost, edge,
    facility) arrays: of every edge leaving (entering, in a reverse search) each of ``nodes``,
    from the node as far as the budget left there goes; then of each source point's own road
    (``point_geom`` -1 off the network), both ways from the point. Going out, the road's forward
    edge (``geom_edges[g, 0]``) covers the part towards the geometry's end and its backward edge
    the part towards its start; coming in, the other way round."""
    total = 2 * len(point_geom)
    for node in nodes:
        total += indptr[node + 1] - indptr[node]
    geom = np.empty(total, dtype=np.int64)
    origin, far, origin_cost = np.empty(total), np.empty(total), np.empty(total)
    edges = np.empty(total, dtype=np.int64)
    facility = np.empty(total, dtype=np.int64)
    at = 0
    for node in nodes:
        left = budget - node_cost[node]
        for slot in range(indptr[node], indptr[node + 1]):
            edge = edge_list[slot]
            along_geometry = (not edge_reversed[edge]) != reverse
            start = 0.0 if along_geometry else 1.0
            geom[at], origin[at], edges[at] = edge_geom[edge], start, edge
            far[at] = reach(keys, levels, block_start, block_end, scale, closed, edge_geom,
                            edge, start, left, along_geometry)
            origin_cost[at], facility[at] = node_cost[node], node_source[node]
            at += 1
    for point in range(len(point_geom)):
        g, left = point_geom[point], budget - point_cost[point]
        if g < 0 or not left >= 0.0:
            continue
        forward, backward = geom_edges[g, 0], geom_edges[g, 1]
        for towards_end in (True, False):
            edge = (forward if towards_end != reverse else backward)
            geom[at], origin[at], edges[at] = g, point_fraction[point], edge
            far[at] = reach(keys, levels, block_start, block_end, scale, closed, edge_geom,
                            edge, point_fraction[point], left, towards_end)
            origin_cost[at], facility[at] = point_cost[point], point
            at += 1
    return geom[:at], origin[:at], far[:at], origin_cost[:at], edges[:at], facility[:at]


@numba.njit(cache=True, nogil=True)
def _factor(scale: np.ndarray, edge: int) -> float:  # pragma: no cover
    return scale[edge] if len(scale) and edge >= 0 else 1.0


@numba.njit(cache=True, nogil=True)
def earliest_way(geom: np.ndarray, origin: np.ndarray, far: np.ndarray,
                 origin_cost: np.ndarray, edge: np.ndarray, keys: np.ndarray,
                 levels: np.ndarray, scale: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``far`` with each road reached from both of its ends drawn once: each end's stretch only
    up to the point where the other end's gets there first (the costs meet once: one rises along
    the road as the other falls), so every part of the road keeps the earlier of its two times.
    Cut only where the two stretches overlap (a block or the budget may stop either short)."""
    far = far.copy()
    from_end = np.flatnonzero((origin == 0.0) | (origin == 1.0))
    order = from_end[np.argsort(geom[from_end], kind="mergesort")]
    for p in range(len(order) - 1):
        one, other = order[p], order[p + 1]
        if geom[one] != geom[other] or origin[one] == origin[other]:
            continue
        start, end = (one, other) if origin[one] == 0.0 else (other, one)
        if not far[end] < far[start]:
            continue
        road = 2.0 * geom[start]
        f0, f1 = _factor(scale, edge[start]), _factor(scale, edge[end])
        # origin_cost[start] + f0·(L − L0) = origin_cost[end] + f1·(L1 − L)
        meet_level = ((origin_cost[end] - origin_cost[start]
                       + f0 * _interp(keys, levels, road)
                       + f1 * _interp(keys, levels, road + 1.0)) / (f0 + f1))
        if not np.isfinite(meet_level):
            continue
        meet = min(max(_key_at(keys, levels, meet_level, True) - road, 0.0), 1.0)
        meet = min(max(meet, far[end]), far[start])
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
def stretch_pieces(geom: np.ndarray, origin: np.ndarray, far: np.ndarray,
                   origin_cost: np.ndarray, edge: np.ndarray, keys: np.ndarray,
                   levels: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                   scale: np.ndarray):  # pragma: no cover
    """The straight pieces of the stretches (ax, ay, bx, by, a_cost, b_cost): one per pair of
    consecutive points, the stretch's ends interpolated on the key line and the road's own
    points between them taken as they are, each reached at ``origin_cost + factor·|level −
    origin level|``."""
    n = len(geom)
    lo_key, hi_key = np.empty(n), np.empty(n)
    first, last = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    for s in range(n):
        road = 2.0 * geom[s]
        lo_key[s], hi_key[s] = road + min(origin[s], far[s]), road + max(origin[s], far[s])
        first[s] = np.searchsorted(keys, lo_key[s], side="right")
        last[s] = np.searchsorted(keys, hi_key[s], side="left")
        offsets[s + 1] = offsets[s] + max(last[s] - first[s], 0) + 1
    size = offsets[n]
    ax, ay, bx, by = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    a_cost, b_cost = np.empty(size), np.empty(size)
    for s in range(n):
        factor = _factor(scale, edge[s])
        origin_level = _interp(keys, levels, 2.0 * geom[s] + origin[s])
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
