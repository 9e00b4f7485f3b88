"""Cutting a road's polyline between two fractions of its length, against shapely's substring,
and routes' geometries made of such cuts and whole edges."""

import numpy as np
import pytest
import shapely
import shapely.ops

from geo.routing.paths import MAX_SLICED_EDGES, _whole_edges_coords, substring


@pytest.mark.parametrize("seed", range(6))
def test_substring_matches_shapely(seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 500, (int(rng.integers(2, 12)), 2))
    xy[3:5] = xy[3] if len(xy) > 4 else xy[3:5]  # a repeated point
    line = shapely.LineString(xy)
    for start, end in [(0.0, 1.0), (0.0, 0.3), (0.25, 1.0), *rng.uniform(0, 1, (8, 2))]:
        start, end = sorted((float(start), float(end)))
        got = np.array(substring(xy.tolist(), start, end))
        expected = shapely.ops.substring(line, start, end, normalized=True)
        assert shapely.equals_exact(shapely.LineString(got) if end > start else
                                    shapely.Point(got[0]), expected, 1e-9)
        assert len(got) >= 2  # a route's line needs two points, even of one spot


def test_substring_of_a_zero_length_line_is_its_point_twice():
    assert substring([[3.0, 4.0], [3.0, 4.0]], 0.2, 0.7) == [[3.0, 4.0], [3.0, 4.0]]


def test_short_and_long_runs_of_whole_edges_give_the_same_points(networks):
    # Short runs are sliced edge by edge, long ones gathered with one index array: both must be
    # the edges' points one after another, each edge in its travel direction.
    net = networks("liechtenstein", "drive")
    rng = np.random.default_rng(1)
    edges = rng.integers(0, net.n_edges, 3 * MAX_SLICED_EDGES).tolist()
    long_run = _whole_edges_coords(net, edges)
    pieces = [_whole_edges_coords(net, edges[i:i + 8]) for i in range(0, len(edges), 8)]
    np.testing.assert_array_equal(long_run, np.concatenate(pieces))
    first = net.geometries[net.edge_geom[edges[0]]]
    own = np.asarray(first.coords)[::-1 if net.edge_reversed[edges[0]] else 1]
    np.testing.assert_array_equal(long_run[:len(own)], own)
