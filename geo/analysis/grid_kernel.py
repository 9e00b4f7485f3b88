"""The compiled loops of :mod:`geo.analysis.area_grid` (numba, cached on disk): distances from
the grid to the reached pieces of road, and the distance transform of the filled form.

Kept apart so that only service areas pay for importing numba, and only once per install for
compiling it (``cache=True`` keeps the machine code beside this file; setup compiles it:
:mod:`geo.analysis.warm_up`).
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
    # Products by inverses rather than divisions, and a branch-free minimum: a third of the
    # time on a walking area's short pieces (a few grid points across each).
    inverse_cell = 1.0 / cell_m
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
        inverse_vy = 1.0 / vy if vy != 0.0 else 0.0
        j0 = max(0, math.ceil((min(sy, sy + vy) - reach_m - y0) / cell_m))
        j1 = min(ny - 1, math.floor((max(sy, sy + vy) + reach_m - y0) / cell_m))
        seen_j0, seen_j1 = min(seen_j0, j0), max(seen_j1, j1)
        left, right = sx - reach_m - x0, sx + reach_m - x0
        for j in range(j0, j1 + 1):
            py = y0 + j * cell_m - sy
            # The stretch of this row that can lie within reach: the piece's part within
            # reach_m of the row in y, widened by reach_m in x.
            if vy != 0.0:
                t0 = min(max((py - reach_m) * inverse_vy, 0.0), 1.0)
                t1 = min(max((py + reach_m) * inverse_vy, 0.0), 1.0)
                lo, hi = min(t0, t1) * vx, max(t0, t1) * vx
                x_lo, x_hi = min(lo, hi), max(lo, hi)
            else:
                x_lo, x_hi = min(0.0, vx), max(0.0, vx)
            i0 = max(0, math.ceil((left + x_lo) * inverse_cell))
            i1 = min(nx - 1, math.floor((right + x_hi) * inverse_cell))
            seen_i0, seen_i1 = min(seen_i0, i0), max(seen_i1, i1)
            row = j * nx
            py_vy = py * vy
            for i in range(i0, i1 + 1):
                px = x0 + i * cell_m - sx
                t = min(max((px * vx + py_vy) * inverse, 0.0), 1.0)
                dx, dy = px - t * vx, py - t * vy
                distance2[row + i] = min(distance2[row + i], dx * dx + dy * dy)
    return seen_j0, seen_j1, seen_i0, seen_i1


_FAR2 = 1e30  # a squared distance standing for "no feature point in this row or column"


@numba.njit(cache=True, nogil=True)
def squared_distances_to(feature: np.ndarray) -> np.ndarray:  # pragma: no cover
    """For every point of the 2-D boolean grid ``feature``, the squared distance (in cells²) to
    the nearest ``True`` point: exact Euclidean, in two separable passes (Felzenszwalb &
    Huttenlocher: run lengths down the columns, then the lower envelope of parabolas along each
    row); ``_FAR2`` or more where there is none. Points outside the grid count as no feature,
    as in ``scipy.ndimage.distance_transform_edt``, which costs several times as much."""
    ny, nx = feature.shape
    steps = np.empty((ny, nx))  # cells to the nearest feature point in the same column
    for i in range(nx):
        steps[0, i] = 0.0 if feature[0, i] else np.inf
    for j in range(1, ny):
        for i in range(nx):
            steps[j, i] = 0.0 if feature[j, i] else steps[j - 1, i] + 1.0
    for j in range(ny - 2, -1, -1):
        for i in range(nx):
            steps[j, i] = min(steps[j, i], steps[j + 1, i] + 1.0)
    out = np.empty((ny, nx))
    f = np.empty(nx)
    hull = np.empty(nx, dtype=np.int64)  # the parabolas of the lower envelope
    bounds = np.empty(nx + 1)  # where each takes over
    for j in range(ny):
        for i in range(nx):
            s = steps[j, i]
            f[i] = s * s if s < np.inf else _FAR2
        k = 0
        hull[0], bounds[0], bounds[1] = 0, -np.inf, np.inf
        for q in range(1, nx):
            # Drop the parabolas q's undercuts from where they take over (never the first:
            # it takes over at -inf).
            cross = _crossing(f, hull[k], q)
            while cross <= bounds[k]:
                k -= 1
                cross = _crossing(f, hull[k], q)
            k += 1
            hull[k], bounds[k], bounds[k + 1] = q, cross, np.inf
        k = 0
        for q in range(nx):
            while bounds[k + 1] < q:
                k += 1
            p = hull[k]
            out[j, q] = (q - p) * (q - p) + f[p]
    return out


@numba.njit(cache=True, nogil=True)
def _crossing(f: np.ndarray, p: int, q: int) -> float:  # pragma: no cover
    """Where the parabolas rooted at p and q (p < q; heights f) cross."""
    return ((f[q] + q * q) - (f[p] + p * p)) / (2.0 * (q - p))


# Up to this many cells, a distance transform bounded by a radius tries every column within it
# (a loop the compiler vectorises, about twice as fast as the lower envelope); beyond, the
# envelope's constant cost per point wins.
MAX_BRUTE_RADIUS = 24


@numba.njit(cache=True, nogil=True, inline="always")
def _rows_to_feature(feature: np.ndarray, cap: int,
                     steps: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``steps`` := rows to the nearest ``True`` point of ``feature`` in the same column, at
    most ``cap`` (two passes down the columns)."""
    ny, nx = feature.shape
    for i in range(nx):
        steps[0, i] = 0 if feature[0, i] else cap
    for j in range(1, ny):
        for i in range(nx):
            steps[j, i] = 0 if feature[j, i] else min(steps[j - 1, i] + 1, cap)
    for j in range(ny - 2, -1, -1):
        for i in range(nx):
            steps[j, i] = min(steps[j, i], steps[j + 1, i] + 1)
    return steps


@numba.njit(cache=True, nogil=True)
def squared_distances_within(feature: np.ndarray, radius: int) -> np.ndarray:  # pragma: no cover
    """For every point of the 2-D boolean grid ``feature``, the squared distance (cells²) to the
    nearest ``True`` point where that is at most ``radius``², and more than ``radius``² elsewhere
    (points outside the grid count as no feature). Exact within the radius: the nearest feature
    point lies within ``radius`` rows and columns, so its column distance is found by the
    passes down the columns and it is among the ``2·radius + 1`` columns tried."""
    ny, nx = feature.shape
    cap = radius + 1
    far = cap * cap
    steps = _rows_to_feature(feature, cap, np.empty((ny, nx), dtype=np.int32))
    out = np.empty((ny, nx), dtype=np.int32)
    heights = np.full(nx + 2 * radius, far, dtype=np.int32)  # padded: outside is no feature
    for j in range(ny):
        for i in range(nx):
            s = steps[j, i]
            heights[i + radius] = s * s if s < cap else far
        row = out[j]
        row[:] = far
        for d in range(2 * radius + 1):  # the column q + d - radius, for every q at once
            offset2 = (d - radius) * (d - radius)
            for q in range(nx):
                row[q] = min(row[q], heights[q + d] + offset2)
    return out


@numba.njit(cache=True, nogil=True)
def closed_field(distance2: np.ndarray, buffer_m: float, fill_m: float,
                 cell_m: float) -> np.ndarray:  # pragma: no cover
    """The distances (m) of the squared field ``distance2`` with its band (``≤ buffer_m``)
    closed by ``fill_m``: grown by ``fill_m``, shrunk back by ``fill_m``. Returned as a field
    that is ``≤ buffer_m`` exactly on the closed band and equals the distance to the roads on the
    band itself. Growing needs distances up to ``fill_m`` only, and shrinking up to
    ``buffer_m + fill_m`` (deeper land gets 0 either way), so both transforms are bounded there
    while the bound is a few cells."""
    ny, nx = distance2.shape
    mask = np.empty((ny, nx), dtype=np.bool_)
    buffer2 = buffer_m * buffer_m
    for j in range(ny):
        for i in range(nx):
            mask[j, i] = distance2[j, i] <= buffer2  # the band
    out = np.empty((ny, nx))
    # The two transforms' results differ in type (bounded: int32, exact: float), so each goes
    # to the same compiled steps (one per type) instead of being converted.
    if math.ceil(fill_m / cell_m) <= MAX_BRUTE_RADIUS:
        mask = farther_than(mask, fill_m, cell_m)
    else:
        _mark_outside(squared_distances_to(mask), fill_m, cell_m, mask)
    radius = math.ceil((buffer_m + fill_m) / cell_m)
    if radius <= MAX_BRUTE_RADIUS:
        _combine(distance2, squared_distances_within(mask, radius), buffer_m, fill_m, cell_m, out)
    else:
        _combine(distance2, squared_distances_to(mask), buffer_m, fill_m, cell_m, out)
    return out


@numba.njit(cache=True, nogil=True)
def farther_than(feature: np.ndarray, distance_m: float,
                 cell_m: float) -> np.ndarray:  # pragma: no cover
    """Which points of the 2-D boolean grid ``feature`` (spacing ``cell_m``) lie farther than
    ``distance_m`` from every ``True`` point (points outside the grid count as no feature).

    A yes/no question needs no distances: with the rows to the nearest feature point per column
    (as in :func:`squared_distances_within`), a point is near one iff some column ``d`` away
    has one within the largest row count ``d`` allows, a comparison per column tried on small
    integers (32 at a time where :func:`squared_distances_within` adds and takes minima 8 at a
    time). For ``distance_m`` up to ``MAX_BRUTE_RADIUS`` cells."""
    ny, nx = feature.shape
    radius = math.ceil(distance_m / cell_m)
    cap = radius + 1
    distance2, cell2 = distance_m * distance_m, cell_m * cell_m
    steps = _rows_to_feature(feature, cap, np.empty((ny, nx), dtype=np.int8))
    # The most rows a feature point may be away at each column offset (-1: none), by the same
    # comparison as the distances' (squared cells times the squared spacing).
    allowed = np.full(2 * radius + 1, -1, dtype=np.int8)
    for d in range(2 * radius + 1):
        for rows in range(radius + 1):
            if ((d - radius) * (d - radius) + rows * rows) * cell2 <= distance2:
                allowed[d] = rows
    out = np.empty((ny, nx), dtype=np.bool_)
    padded = np.full(nx + 2 * radius, cap, dtype=np.int8)
    near = np.empty(nx, dtype=np.uint8)
    for j in range(ny):
        for i in range(nx):
            padded[i + radius] = steps[j, i]
        near[:] = 0
        for d in range(2 * radius + 1):  # the column q + d - radius, for every q at once
            most = allowed[d]
            for q in range(nx):
                near[q] |= padded[q + d] <= most
        for q in range(nx):
            out[j, q] = near[q] == 0
    return out


@numba.njit(cache=True, nogil=True)
def _mark_outside(grown2: np.ndarray, fill_m: float, cell_m: float,
                  mask: np.ndarray) -> None:  # pragma: no cover
    """``mask`` := the points farther than ``fill_m`` from the band (``grown2``: cells²)."""
    fill2, cell2 = fill_m * fill_m, cell_m * cell_m
    ny, nx = mask.shape
    for j in range(ny):
        for i in range(nx):
            mask[j, i] = not grown2[j, i] * cell2 <= fill2


@numba.njit(cache=True, nogil=True)
def _combine(distance2: np.ndarray, depth2: np.ndarray, buffer_m: float, fill_m: float,
             cell_m: float, out: np.ndarray) -> None:  # pragma: no cover
    """``out`` := min(distance, max(buffer + fill - depth, 0)), ``depth`` being how far inside
    the grown band a point lies; no roots where one side decides (deep inside the closing: 0,
    outside it: the distance)."""
    full_depth2 = ((buffer_m + fill_m) / cell_m) ** 2
    ny, nx = out.shape
    for j in range(ny):
        for i in range(nx):
            if depth2[j, i] >= full_depth2:
                out[j, i] = 0.0
            elif depth2[j, i] == 0:
                out[j, i] = min(math.sqrt(distance2[j, i]), buffer_m + fill_m)
            else:
                depth = math.sqrt(depth2[j, i]) * cell_m
                out[j, i] = min(math.sqrt(distance2[j, i]), max(buffer_m + fill_m - depth, 0.0))
