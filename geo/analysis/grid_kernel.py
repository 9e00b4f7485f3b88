"""The compiled inner loop of :mod:`geo.analysis.area_grid` (numba, cached on disk).

Kept apart so that only service areas pay for importing numba, and only once per machine for
compiling it (``cache=True`` keeps the machine code beside this file).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def lower_distances(distance: np.ndarray, nx: int, ny: int, x0: float, y0: float, cell_m: float,
                    reach_m: float, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray,
                    by: np.ndarray, a_cost: np.ndarray, b_cost: np.ndarray, budget: float,
                    previous: float) -> None:  # pragma: no cover  (compiled)
    """Lower ``distance`` (grid point ``j·nx + i`` at ``x0 + i·cell_m``, ``y0 + j·cell_m``) to
    the part of each piece reached within ``budget``, at the grid points within ``reach_m`` of
    it. Pieces wholly reached by ``previous`` (already drawn) and those not reached are
    skipped; a piece reached in part counts up to where the budget runs out along it."""
    reach2 = reach_m * reach_m
    for k in range(len(ax)):
        if a_cost[k] > budget or b_cost[k] <= previous:
            continue
        span = b_cost[k] - a_cost[k]
        share = 1.0 if span <= 0.0 else min(1.0, (budget - a_cost[k]) / span)
        sx, sy = ax[k], ay[k]
        vx, vy = share * (bx[k] - sx), share * (by[k] - sy)
        length2 = vx * vx + vy * vy
        inverse = 1.0 / length2 if length2 > 0.0 else 0.0
        j0 = max(0, math.ceil((min(sy, sy + vy) - reach_m - y0) / cell_m))
        j1 = min(ny - 1, math.floor((max(sy, sy + vy) + reach_m - y0) / cell_m))
        for j in range(j0, j1 + 1):
            py = y0 + j * cell_m - sy
            # The stretch of this row that can lie within reach: the piece's part within
            # reach_m of the row in y, widened by reach_m in x.
            if vy != 0.0:
                t0 = min(max((py - reach_m) / vy, 0.0), 1.0)
                t1 = min(max((py + reach_m) / vy, 0.0), 1.0)
                lo, hi = min(t0, t1) * vx, max(t0, t1) * vx
                x_lo, x_hi = min(lo, hi), max(lo, hi)
            else:
                x_lo, x_hi = min(0.0, vx), max(0.0, vx)
            i0 = max(0, math.ceil((sx + x_lo - reach_m - x0) / cell_m))
            i1 = min(nx - 1, math.floor((sx + x_hi + reach_m - x0) / cell_m))
            row = j * nx
            for i in range(i0, i1 + 1):
                px = x0 + i * cell_m - sx
                t = min(max((px * vx + py * vy) * inverse, 0.0), 1.0)
                dx, dy = px - t * vx, py - t * vy
                d2 = dx * dx + dy * dy
                if d2 < reach2:
                    d = math.sqrt(d2)
                    if d < distance[row + i]:
                        distance[row + i] = d


@numba.njit(cache=True, nogil=True)
def _at(keys: np.ndarray, values: np.ndarray, key: float, above: int) -> float:
    """``values`` interpolated at ``key``, where ``keys[above]`` is the first key above it."""
    if above <= 0:
        return values[0]
    if above >= len(keys):
        return values[len(keys) - 1]
    k0, k1 = keys[above - 1], keys[above]
    share = (key - k0) / (k1 - k0) if k1 > k0 else 0.0
    return values[above - 1] + share * (values[above] - values[above - 1])


@numba.njit(cache=True, nogil=True)
def stretch_pieces(keys: np.ndarray, levels: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                   lo_key: np.ndarray, hi_key: np.ndarray, first: np.ndarray,
                   last: np.ndarray, offsets: np.ndarray, origin_level: np.ndarray,
                   origin_cost: np.ndarray, factor: np.ndarray, ax: np.ndarray,
                   ay: np.ndarray, bx: np.ndarray, by: np.ndarray, a_cost: np.ndarray,
                   b_cost: np.ndarray) -> None:  # pragma: no cover  (compiled)
    """The straight pieces of stretch ``s`` (from key ``lo_key[s]`` to ``hi_key[s]``; the road
    points strictly between are ``keys[first[s]:last[s]]``) written from ``offsets[s]`` on: ends
    interpolated on the key line, the road's own points taken as they are, and the cost of
    reaching each point: ``origin_cost + factor·|level − origin_level|``."""
    for s in range(len(lo_key)):
        at, stop = offsets[s], offsets[s + 1]
        x = _at(keys, xs, lo_key[s], first[s])
        y = _at(keys, ys, lo_key[s], first[s])
        level = _at(keys, levels, lo_key[s], first[s])
        cost = origin_cost[s] + factor[s] * abs(level - origin_level[s])
        for p in range(at, stop):
            point = first[s] + (p - at)
            if p == stop - 1:  # the stretch's end
                nx = _at(keys, xs, hi_key[s], last[s])
                ny = _at(keys, ys, hi_key[s], last[s])
                level = _at(keys, levels, hi_key[s], last[s])
            else:
                nx, ny, level = xs[point], ys[point], levels[point]
            next_cost = origin_cost[s] + factor[s] * abs(level - origin_level[s])
            ax[p], ay[p], bx[p], by[p], a_cost[p], b_cost[p] = x, y, nx, ny, cost, next_cost
            x, y, cost = nx, ny, next_cost
