"""Projected coordinates to lon/lat for the many vertices of contoured outlines, by a polynomial
fitted to the exact transform over their box (or a tile around it), checked against it.

A driving service area's outline has tens of thousands of vertices, and PROJ's exact transverse
Mercator inverse costs about as much as drawing the area. Over a box of a region's size the
inverse is a very smooth function, which a degree-5 polynomial in x and y follows to well under a
millimetre: the polynomial is fitted on Chebyshev points of the vertices' box, compared with the
exact transform on a grid that includes the box's corners and edges, and used only when the
largest difference there is under :data:`TOLERANCE_DEG` (about 1 mm); otherwise (a box too large,
a projection that is not smooth there) the exact transform does all of it.

Outlines of a few hundred vertices (a walking area) would pay more for their own fit than for
the exact transform, so a caller that names its projection (``crs``) shares fits: a box up to
:data:`TILE_M` across lies inside one of the overlapping tiles ``2·TILE_M`` wide that start at
every multiple of ``TILE_M``, whose fit is made and checked once per process and projection.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

DEGREE = 5
FIT_POINTS = 9  # Chebyshev points per side of the box
CHECK_POINTS = 12  # evenly spaced per side, corners included
TOLERANCE_DEG = 1e-8  # ≈ 1.1 mm of latitude
MIN_VERTICES = 1_000  # below this, a fit of the box alone costs more than the exact transform
TILE_M = 20_000.0  # boxes up to this across use a shared fit (see the module's docstring)
MAX_TILE_FITS = 4_096  # kept per process (about 1 MB); more start the cache afresh
# Exponents (i, j) of the terms u^i·v^j with i + j ≤ DEGREE.
_POWERS = np.array([(i, j) for i in range(DEGREE + 1) for j in range(DEGREE + 1 - i)])


def _box_points(side: np.ndarray) -> np.ndarray:
    """The grid ``side`` × ``side`` (coordinates in -1..1 of the box) as rows (u, v)."""
    u, v = np.meshgrid(side, side)
    return np.column_stack([u.ravel(), v.ravel()])


def _terms(uv: np.ndarray) -> np.ndarray:
    return uv[:, :1] ** _POWERS[:, 0] * uv[:, 1:] ** _POWERS[:, 1]


# Where the exact transform is asked, in box coordinates, and what turns its answers into the
# polynomial's coefficients (least squares on the fitting points) or checks them: the same for
# every box, so made once.
_FIT_UV = _box_points(np.cos(np.pi * (np.arange(FIT_POINTS) + 0.5) / FIT_POINTS))
_CHECK_UV = _box_points(np.linspace(-1.0, 1.0, CHECK_POINTS))
_SAMPLE_UV = np.vstack([_FIT_UV, _CHECK_UV])
_FIT = np.linalg.pinv(_terms(_FIT_UV))
_CHECK_TERMS = _terms(_CHECK_UV)

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
_Fit = tuple[float, float, float, np.ndarray]  # centre x, centre y, half width, coefficients
_TILE_FITS: dict[tuple[str, tuple[int, int]], _Fit | None] = {}
_UNFITTED = object()


def lonlat(transform: Transform, xy: np.ndarray, *, crs: str | None = None) -> np.ndarray:
    """``transform`` (projected x, y → lon, lat; exact) applied to the rows of ``xy``; with
    ``crs``, the projection ``transform`` inverts, fits are shared between calls."""
    xy = np.ascontiguousarray(xy, dtype=float)
    if len(xy):
        x0, y0, x1, y1 = _bounds(xy)
        fit = None
        if crs is not None and max(x1 - x0, y1 - y0) <= TILE_M:
            tile = (int(np.floor(x0 / TILE_M)), int(np.floor(y0 / TILE_M)))
            fit = _tile_fit(crs, tile, transform)
        elif len(xy) >= MIN_VERTICES:
            fit = _fit(transform, (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0, 1.0) / 2)
        if fit is not None:
            return _evaluate(xy, *fit)
    return np.column_stack(transform(xy[:, 0], xy[:, 1]))


def _tile_fit(crs: str, tile: tuple[int, int], transform: Transform) -> _Fit | None:
    """The fit over the tile ``2·TILE_M`` wide whose lower left corner is ``tile`` × TILE_M
    (``transform`` is the one of ``crs``: the projection's name keys the cache, as PROJ's
    transformers cannot). Two threads may both fit a new tile; they store the same fit."""
    key = (crs, tile)
    fit = _TILE_FITS.get(key, _UNFITTED)
    if fit is _UNFITTED:
        fit = _fit(transform, (tile[0] + 1) * TILE_M, (tile[1] + 1) * TILE_M, TILE_M)
        if len(_TILE_FITS) >= MAX_TILE_FITS:
            _TILE_FITS.clear()
        _TILE_FITS[key] = fit
    return fit  # type: ignore[return-value]


def _fit(transform: Transform, cx: float, cy: float, half: float) -> _Fit | None:
    """The polynomial over the square of ``half`` around (``cx``, ``cy``), or None where it does
    not follow ``transform`` to :data:`TOLERANCE_DEG` on the check grid."""
    samples = np.array([cx, cy]) + half * _SAMPLE_UV
    exact = np.column_stack(transform(samples[:, 0], samples[:, 1]))
    fit_part, check_part = exact[:len(_FIT_UV)], exact[len(_FIT_UV):]
    coefficients = _FIT @ fit_part
    if not np.abs(_CHECK_TERMS @ coefficients - check_part).max() < TOLERANCE_DEG:
        return None
    return cx, cy, half, np.ascontiguousarray(coefficients)


def _evaluate(xy: np.ndarray, cx: float, cy: float, half: float,
              coefficients: np.ndarray) -> np.ndarray:
    out = np.empty((len(xy), 2))
    _polynomial(xy, float(cx), float(cy), float(half), _POWERS, coefficients, out)
    return out


@numba.njit(cache=True, nogil=True)
def _polynomial(xy: np.ndarray, cx: float, cy: float, half: float, powers: np.ndarray,
                coefficients: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """``out[p] = Σ_t coefficients[t] · u^i · v^j`` with (i, j) = ``powers[t]`` and (u, v) the
    point scaled to the box (-1..1)."""
    degree = powers.max()
    u_power = np.empty(degree + 1)
    v_power = np.empty(degree + 1)
    for p in range(len(xy)):
        u, v = (xy[p, 0] - cx) / half, (xy[p, 1] - cy) / half
        u_power[0] = v_power[0] = 1.0
        for k in range(1, degree + 1):
            u_power[k] = u_power[k - 1] * u
            v_power[k] = v_power[k - 1] * v
        lon = lat = 0.0
        for t in range(len(powers)):
            term = u_power[powers[t, 0]] * v_power[powers[t, 1]]
            lon += coefficients[t, 0] * term
            lat += coefficients[t, 1] * term
        out[p, 0], out[p, 1] = lon, lat


@numba.njit(cache=True, nogil=True)
def _bounds(xy: np.ndarray) -> tuple[float, float, float, float]:  # pragma: no cover
    """(min x, min y, max x, max y): one pass (numpy's reduction over the short axis of an
    N × 2 array walks it with a stride, several times slower)."""
    x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
    for p in range(len(xy)):
        x0, x1 = min(x0, xy[p, 0]), max(x1, xy[p, 0])
        y0, y1 = min(y0, xy[p, 1]), max(y1, xy[p, 1])
    return x0, y0, x1, y1
