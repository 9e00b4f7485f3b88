"""Service-area polygons drawn from a grid of distances to the reached roads.

A service area is the land within ``buffer_m`` of the roads reached within a break. Buffering each
reached stretch and unioning the buffers (GEOS) cost tens of milliseconds per area, almost all of
it in the union. Here the same band is drawn from a grid, for all breaks in one pass:

1. the reached roads come as straight pieces with the time at each end (speed is constant along
   one OSM segment, so where a budget runs out on a piece is exact);
2. at every grid point within ``buffer_m`` plus one cell of a piece (and nowhere else), the
   distance to the part of that piece reached within the break;
3. the break's band is where that distance is at most ``buffer_m``, traced by marching squares
   with linear interpolation between grid points (contourpy).

Exact at grid points and interpolated between them: roads not reached leave holes (of about a cell
or more), unreachable land stays out, and a larger break reaches more of every road, so no
distance grows with the break and the polygons nest. The *filled* form closes the band: land
between reached roads within ``fill_m`` of them counts as reached (grow by ``fill_m``, shrink back
by ``fill_m``), while land beyond the outermost reached roads does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

# Grid spacing as a share of the band's half-width: 2 points across every half-band.
CELL_PER_BUFFER = 0.5


@dataclass(frozen=True)
class TimedPieces:
    """Straight pieces of reached road: from (``ax``, ``ay``), reached at ``a_cost``, to
    (``bx``, ``by``), reached at ``b_cost`` (coordinates in the network's projected CRS, costs
    in the search's unit)."""

    ax: np.ndarray
    ay: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    a_cost: np.ndarray
    b_cost: np.ndarray

    def __len__(self) -> int:
        return len(self.ax)


def band_polygons(pieces: TimedPieces, breaks, *, buffer_m: float, fill_m: float | None = None,
                  cell_m: float | None = None) -> list:
    """One polygon (projected) per break: the land within ``buffer_m`` of the pieces' parts
    reached within it; with ``fill_m``, closed over gaps between reached roads (see module)."""
    from geo.analysis.grid_kernel import closed_field, lower_distances, reached_bounds

    breaks = np.asarray(breaks, dtype=float)
    cell_m = buffer_m * CELL_PER_BUFFER if cell_m is None else cell_m
    p = pieces
    bounds = reached_bounds(p.ax, p.ay, p.bx, p.by, p.a_cost, p.b_cost, float(breaks[-1]))
    if not bounds[0] <= bounds[2]:
        return [shapely.Polygon() for _ in breaks]
    # A closed band reaches fill_m beyond the band, which reaches a cell beyond buffer_m.
    margin_m = buffer_m + 2 * cell_m + (fill_m or 0.0)
    grid = _Grid.around(bounds, cell_m, margin_m=margin_m)
    # Grid points beyond reach_m of every reached road keep reach_m: enough for the outline to
    # be interpolated between a point inside and its neighbours (at most one cell further).
    reach_m = buffer_m + cell_m
    # Squared while lowered (no root per grid point and piece), rooted over the box traced.
    distance2 = np.full(grid.size, reach_m * reach_m)
    polygons, previous = [], -np.inf
    seen = (grid.ny, -1, grid.nx, -1)
    pad = int(np.ceil((fill_m or 0.0) / cell_m)) + 1
    for b in breaks:
        rows = lower_distances(distance2, grid.nx, grid.ny, grid.x0, grid.y0, cell_m, reach_m,
                               p.ax, p.ay, p.bx, p.by, p.a_cost, p.b_cost, float(b),
                               float(previous))
        seen = (min(seen[0], rows[0]), max(seen[1], rows[1]), min(seen[2], rows[2]),
                max(seen[3], rows[3]))
        previous = b
        if seen[1] < seen[0]:  # nothing reached yet (a start cost beyond this break)
            polygons.append(shapely.Polygon())
            continue
        # Closed and traced only over the grid points looked at so far (and the closing's
        # reach): the smaller breaks' areas cover a fraction of the grid, and the tracer's
        # set-up costs as much as its grid.
        box = (slice(max(seen[0] - pad, 0), seen[1] + pad + 1),
               slice(max(seen[2] - pad, 0), seen[3] + pad + 1))
        box_distance2 = distance2.reshape(grid.shape)[box]
        # The filled form: grown by fill_m, shrunk back (the closing reaches no further than
        # the box's pad), as a field that is ≤ buffer_m exactly on the closed band.
        field = (closed_field(box_distance2, buffer_m, fill_m, cell_m) if fill_m
                 else np.sqrt(box_distance2))
        polygons.append(grid.contour(field, buffer_m, box))
    return polygons


@dataclass(frozen=True)
class _Grid:
    """Grid points ``x0 + i·cell``, ``y0 + j·cell``; point (j, i) is ``j·nx + i``."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], cell_m: float,
               margin_m: float) -> _Grid:
        """The grid over ``bounds`` (min x, min y, max x, max y) widened by ``margin_m``."""
        x0 = np.floor((bounds[0] - margin_m) / cell_m) * cell_m
        y0 = np.floor((bounds[1] - margin_m) / cell_m) * cell_m
        x1, y1 = bounds[2] + margin_m, bounds[3] + margin_m
        nx, ny = int(np.ceil((x1 - x0) / cell_m)) + 1, int(np.ceil((y1 - y0) / cell_m)) + 1
        return cls(float(x0), float(y0), cell_m, nx, ny)

    @property
    def size(self) -> int:
        return self.nx * self.ny

    @property
    def shape(self) -> tuple[int, int]:
        return self.ny, self.nx

    @cached_property
    def points_xy(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y of every grid point, as 2-D arrays (built once for all breaks)."""
        return np.meshgrid(self.x0 + self.cell_m * np.arange(self.nx),
                           self.y0 + self.cell_m * np.arange(self.ny))

    def contour(self, field: np.ndarray, level: float, box: tuple[slice, slice]):
        """The region where ``field`` ≥ 0, given over ``box`` (rows, columns) of the grid, is
        ≤ ``level``, as one (multi)polygon with its holes."""
        import contourpy

        x, y = self.points_xy
        # The generator class itself: contour_generator() scans z for NaNs every call, which
        # took longer than the tracing (the field never holds any).
        generator = contourpy.SerialContourGenerator(
            x[box], y[box], np.ascontiguousarray(field), None,  # type: ignore[arg-type]
            corner_mask=False, line_type=contourpy.LineType.Separate,
            fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, quad_as_tri=False,
            z_interp=contourpy.ZInterp.Linear)
        points, rings, outers = (np.asarray(part[0]) for part in generator.filled(-1.0, level))
        if points.ndim != 2 or len(points) == 0:
            return shapely.Polygon()
        parts = np.array([0, len(outers) - 1])
        return shapely.from_ragged_array(shapely.GeometryType.MULTIPOLYGON, points,
                                         (rings, outers, parts))[0]

