"""The compiled inner loop of :mod:`geo.analysis.area_grid` (numba, cached on disk).

Kept apart so that only service areas pay for importing numba, and only once per machine for
compiling it (``cache=True`` keeps the machine code beside this file).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def reached_bounds(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
                   a_cost: np.ndarray, b_cost: np.ndarray,
                   budget: float) -> tuple[float, float, float, float]:  # pragma: no cover
    """(min x, min y, max x, max y) of the pieces reached within ``budget`` at either end
    (inf, inf, -inf, -inf when none is)."""
    x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
    for k in range(len(ax)):
        if min(a_cost[k], b_cost[k]) <= budget:
            x0, x1 = min(x0, ax[k], bx[k]), max(x1, ax[k], bx[k])
            y0, y1 = min(y0, ay[k], by[k]), max(y1, ay[k], by[k])
    return x0, y0, x1, y1


@numba.njit(cache=True, nogil=True)
def lower_distances(distance2: np.ndarray, nx: int, ny: int, x0: float, y0: float, cell_m: float,
                    reach_m: float, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray,
                    by: np.ndarray, a_cost: np.ndarray, b_cost: np.ndarray, budget: float,
                    previous: float) -> tuple[int, int, int, int]:  # pragma: no cover
    """Lower ``distance2`` (squared distances; grid point ``j·nx + i`` at ``x0 + i·cell_m``,
    ``y0 + j·cell_m``; at most ``reach_m``²) to the part of each piece reached within
    ``budget``, at the grid points within ``reach_m`` of it. Pieces wholly reached by
    ``previous`` (already drawn) and those not reached are skipped; a piece reached in part
    counts up to where the budget runs out along it, from its cheaper end. Returns the rows and
    columns looked at (j0, j1, i0, i1; j0 > j1 when none)."""
    seen_j0, seen_j1, seen_i0, seen_i1 = ny, -1, nx, -1
    for k in range(len(ax)):
        if a_cost[k] <= b_cost[k]:
            sx, sy, ex, ey, low, high = ax[k], ay[k], bx[k], by[k], a_cost[k], b_cost[k]
        else:
            sx, sy, ex, ey, low, high = bx[k], by[k], ax[k], ay[k], b_cost[k], a_cost[k]
        if low > budget or high <= previous:
            continue
        span = high - low
        share = 1.0 if span <= 0.0 else min(1.0, (budget - low) / span)
        vx, vy = share * (ex - sx), share * (ey - sy)
        length2 = vx * vx + vy * vy
        inverse = 1.0 / length2 if length2 > 0.0 else 0.0
        j0 = max(0, math.ceil((min(sy, sy + vy) - reach_m - y0) / cell_m))
        j1 = min(ny - 1, math.floor((max(sy, sy + vy) + reach_m - y0) / cell_m))
        seen_j0, seen_j1 = min(seen_j0, j0), max(seen_j1, j1)
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
            seen_i0, seen_i1 = min(seen_i0, i0), max(seen_i1, i1)
            row = j * nx
            for i in range(i0, i1 + 1):
                px = x0 + i * cell_m - sx
                t = min(max((px * vx + py * vy) * inverse, 0.0), 1.0)
                dx, dy = px - t * vx, py - t * vy
                d2 = dx * dx + dy * dy
                if d2 < distance2[row + i]:
                    distance2[row + i] = d2
    return seen_j0, seen_j1, seen_i0, seen_i1
